"""The benchmark report: a Markdown page from a results JSON, and the CI regression check.

    python -m benchmarks.report RESULTS.json [--markdown PATH] [--check]
    python -m benchmarks.report --noise RUN1.json RUN2.json …     # the same as python -m benchmarks.calibrate RUN…

Targets and CI floors come from ``benchmarks/targets.toml``: the *target* is what the issue states; the *floor*
is what CI enforces (the target where it is met, the level measured now where it is missed); the *margin* covers
what one run's confidence interval cannot see (the machine differing from run to run). CI fails when the upper
end of the subject ratio's confidence interval is below ``floor × (1 − margin)``: only when the run shows, with
95 % confidence, a ratio under that level.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from course_lib.perf.stats import ratio_interval

TARGETS = Path(__file__).with_name("targets.toml")
REPRODUCE = ("python -m benchmarks --json docs/benchmarks.json --memory --markdown docs/benchmarks.md "
             "--before docs/benchmarks-before.json --notes docs/benchmarks-notes.md")


@dataclass(frozen=True)
class ExtraTarget:
    """A further stated ratio between two cases of a group (e.g. course_lib within 2× of raw sqlite3)."""

    case: str
    baseline: str
    minimum: float
    text: str


@dataclass(frozen=True)
class Target:
    """What one group promises (``target``), what CI enforces in quick mode (``floor``) and the noise ``margin``."""

    group: str
    floor: float
    margin: float
    target: float | None = None
    why: str = ""
    absolute: dict[str, float] = field(default_factory=dict)  # case label -> minimum items/s (reported only)
    extra: list[ExtraTarget] = field(default_factory=list)

    @property
    def fails_below(self) -> float:
        """CI fails when the whole confidence interval of the ratio lies below this."""
        return self.floor * (1 - self.margin)

    def regressed(self, upper: float | None) -> bool:
        """True when the interval's upper end (or the ratio, for results without an interval) is below the line."""
        return upper is None or upper < self.fails_below


def upper_end(group: dict[str, Any]) -> float | None:
    """The upper end of the subject ratio's interval; the ratio itself for results written without intervals."""
    interval = group.get("subject_ratio_ci")
    return interval[1] if interval else group.get("subject_ratio")


def interval_text(ratio: float | None, interval: list[float] | None) -> str:
    """``1.52× [1.41–1.63]``: the ratio and its confidence interval, as every table shows them."""
    if ratio is None:
        return "—"
    return f"{ratio:.2f}× [{interval[0]:.2f}–{interval[1]:.2f}]" if interval else f"{ratio:.2f}×"


def load_targets(path: Path = TARGETS) -> dict[str, Target]:
    """Read ``targets.toml``; every group needs ``floor`` and ``margin``."""
    data = tomllib.loads(path.read_text())
    targets: dict[str, Target] = {}
    for name, entry in data.get("groups", {}).items():
        try:
            targets[name] = Target(
                group=name, floor=float(entry["floor"]), margin=float(entry["margin"]),
                target=entry.get("target"), why=entry.get("why", ""),
                absolute={k: float(v) for k, v in entry.get("absolute", {}).items()},
                extra=[ExtraTarget(e["case"], e["baseline"], float(e["minimum"]), e.get("text", ""))
                       for e in entry.get("extra", [])],
            )
        except KeyError as exc:
            raise ValueError(f"{path}: group {name!r} lacks {exc}; every group needs floor and margin") from None
    return targets


# ------------------------------------------------------------------------------------------------ the check

def check(payload: dict[str, Any], targets: dict[str, Target]) -> list[str]:
    """Every regression in ``payload``: a subject ratio whose whole confidence interval lies below its floor
    minus the margin, or a group that has no entry in the targets file (a new case must state what CI should
    hold it to)."""
    failures: list[str] = []
    for group in payload["groups"]:
        name = group["name"]
        target = targets.get(name)
        if target is None:
            failures.append(f"{name}: no entry in {TARGETS.name}; add its floor and noise margin")
            continue
        if target.regressed(upper_end(group)):
            failures.append(
                f"{name}: ratio {interval_text(group['subject_ratio'], group.get('subject_ratio_ci'))} lies "
                f"wholly below the CI floor {target.floor:g} minus the margin {target.margin:.0%} (fails below "
                f"{target.fails_below:.2f}); a regression, or an unusually busy machine: rerun "
                f"`python -m benchmarks {name} --quick --check` to tell them apart")
    for memory in payload.get("memory", []):
        if not memory["flat"]:
            failures.append(f"memory of {memory['name']}: {memory['verdict']}")
    return failures


# ------------------------------------------------------------------------------------------------ Markdown

def _case_ratio(group: dict[str, Any], label: str, baseline: str) -> tuple[float, list[float] | None] | None:
    """``label`` over ``baseline`` within one group: the median paired ratio with its interval when both have the
    same rounds, else (older results) the ratio of their medians without one."""
    cases = {c["label"]: c for c in group["cases"]}
    if label not in cases or baseline not in cases or not cases[baseline]["per_second"]:
        return None
    runs, base_runs = cases[label].get("runs") or [], cases[baseline].get("runs") or []
    if len(runs) == len(base_runs) >= 2 and group.get("subject_ratio_ci") is not None:
        interval = ratio_interval(runs, base_runs)
        return interval.estimate, [interval.low, interval.high]
    return float(cases[label]["per_second"] / cases[baseline]["per_second"]), None


def _verdict(measured: float, interval: list[float] | None, minimum: float) -> str:
    """met / **missed**, and whether the interval is too wide to tell."""
    verdict = "met" if measured >= minimum else "**missed**"
    if interval and interval[0] < minimum <= interval[1]:
        verdict += " (the target lies inside the interval: this run cannot tell)"
    return verdict


def verdicts(group: dict[str, Any], target: Target | None) -> list[str]:
    """Plain sentences: "target X, measured Y [interval], met/missed" for every stated target of ``group``."""
    lines: list[str] = []
    ratio, interval = group["subject_ratio"], group.get("subject_ratio_ci")
    if target is None:
        return [f"no entry in {TARGETS.name}"]
    if target.target is not None and ratio is not None:
        lines.append(f"target ≥ {target.target:g}× {group['baseline']}, measured {interval_text(ratio, interval)}: "
                     f"{_verdict(ratio, interval, target.target)}")
    elif target.target is None and ratio is not None:
        lines.append(f"no stated target; measured {interval_text(ratio, interval)} {group['baseline']}")
    for extra in target.extra:
        pair = _case_ratio(group, extra.case, extra.baseline)
        if pair is not None:
            lines.append(f"{extra.text or f'{extra.case} ≥ {extra.minimum:g}× {extra.baseline}'}: "
                         f"measured {interval_text(*pair)}: {_verdict(*pair, extra.minimum)}")
    speeds = {c["label"]: c["per_second"] for c in group["cases"]}
    for label, minimum in target.absolute.items():
        if label in speeds:
            verdict = "met" if speeds[label] >= minimum else "**missed**"
            lines.append(f"target ≥ {minimum:,.0f} {group['unit']}/s for {label}, measured "
                         f"{speeds[label]:,.0f}/s: {verdict}")
    return lines


def machine_line(machine: dict[str, Any]) -> str:
    """One line describing where the numbers came from."""
    extra = f", {machine['memory_gb']:.1f} GB RAM" if machine.get("memory_gb") else ""
    load = f", load average {machine['load_average']}" if machine.get("load_average") else ""
    return (f"{machine.get('processor') or '?'} ({machine.get('cpus')} CPUs{extra}{load}), "
            f"{machine.get('platform')}, Python {machine.get('python')}; run at {machine.get('when')}")


def _confidence(payload: dict[str, Any]) -> str:
    confidence = payload.get("ratio_interval", {}).get("confidence")
    return f"{confidence:.0%}" if confidence else "95%"


def before_and_after(payload: dict[str, Any], before: dict[str, Any],
                     targets: dict[str, Target] | None = None) -> list[str]:
    """A table of every case's ratio to its group's baseline in an earlier run (``before``) and in this one, and
    of the further stated ratios (``extra`` in the targets, e.g. course_lib over raw sqlite3)."""
    earlier = {(g["name"], c["label"]): (g["baseline"], c["ratio_to_baseline"]) for g in before["groups"]
               for c in g["cases"]}
    earlier_groups = {g["name"]: g for g in before["groups"]}
    out = ["", "## Before and after", "",
           f"Each case's ratio to its group's baseline in an earlier full run ({before['machine'].get('when', '?')}, "
           "before the store's read path, the PostgreSQL projector and the benchmark method were reworked) and in "
           "this one. Both runs measured every case side by side with its baseline; only ratios are compared.", "",
           "| group | case | baseline | before | now |", "|---|---|---|---:|---:|"]
    for group in payload["groups"]:
        for case in group["cases"]:
            if case["label"] == group["baseline"]:
                continue
            old = earlier.get((group["name"], case["label"]))
            then = f"{old[1]:.2f}×" if old is not None and old[0] == group["baseline"] else "— (not measured)"
            now = interval_text(case["ratio_to_baseline"], case.get("ratio_ci"))
            out.append(f"| {group['name']} | {case['label']} | {group['baseline']} | {then} | {now} |")
        target = (targets or {}).get(group["name"])
        for extra in target.extra if target is not None else []:
            measured = _case_ratio(group, extra.case, extra.baseline)
            old_group = earlier_groups.get(group["name"])
            old_ratio = _case_ratio(old_group, extra.case, extra.baseline) if old_group is not None else None
            if measured is not None:
                then = f"{old_ratio[0]:.2f}×" if old_ratio is not None else "— (not measured)"
                out.append(f"| {group['name']} | {extra.case} | {extra.baseline} | {then} | "
                           f"{interval_text(*measured)} |")
    return out


def to_markdown(payload: dict[str, Any], targets: dict[str, Target], *, command: str = REPRODUCE,
                before: dict[str, Any] | None = None, notes: str | None = None) -> str:
    """The whole report: machine, command, one table row per case, the verdict per target, memory, CI floors;
    with ``before`` (an earlier run's results) a before-and-after table, and ``notes`` (Markdown) at the end."""
    mode = "quick mode (CI smoke sizes)" if payload.get("quick") else "full sizes"
    out = [
        "# Benchmark results",
        "",
        f"Measured on: {machine_line(payload['machine'])}.",
        f"Services: {payload['machine'].get('services', 'RabbitMQ, Kafka-protocol broker, SQLite on local disk')}.",
        f"Sizes: {mode}. Reproduce with:",
        "",
        "```bash",
        command,
        "```",
        "",
        "Every group warms its cases up, then runs them side by side in rounds, interleaved (A, B, C, A, B, C, …). "
        "*throughput* is the median of a case's runs; *ratio* is the median of the paired ratios (each run of the "
        "case over the baseline's run in the same round), and the brackets hold its "
        f"{_confidence(payload)} confidence interval (percentile bootstrap over the pairs, fixed seed: the same "
        "JSON always gives the same interval). *pairs* is the number of rounds. A narrow interval means the ratio "
        "is pinned down; a target inside the interval means this run cannot tell whether it is met. Absolute "
        "numbers belong to this machine on that afternoon; compare ratios.",
        "",
        "| group | case | throughput | ratio to baseline [interval] | pairs | target |",
        "|---|---|---:|---:|---:|---|",
    ]
    for group in payload["groups"]:
        target = targets.get(group["name"])
        pairs = group.get("repeats") or len(group["cases"][0].get("runs") or []) or "—"
        for case in group["cases"]:
            note = ""
            if case["label"] == group["subject"]:
                note = "; ".join(verdicts(group, target))
            base = " (baseline)" if case["label"] == group["baseline"] else ""
            ratio = interval_text(case["ratio_to_baseline"], case.get("ratio_ci"))
            out.append(f"| {group['name']} | {case['label']}{base} | {case['per_second']:,.0f} {group['unit']}/s"
                       f" | {ratio} | {pairs} | {note} |")
    missed = [(g["name"], line) for g in payload["groups"] for line in verdicts(g, targets.get(g["name"]))
              if "missed" in line]
    out += ["", "## Targets missed", ""]
    out += [f"- **{name}**: {line.replace('**', '')}. {targets[name].why}".rstrip() for name, line in missed
            if name in targets] or ["None."]
    if payload.get("memory"):
        out += ["", "## Peak memory", "",
                "Each measurement runs in a fresh Python process (so peaks cannot leak from one to the next); "
                "fixtures are built before measuring. *traced* is the peak of Python allocations during the work "
                "(tracemalloc), *RSS growth* is the process's peak resident set minus its size before the work.",
                "", "| work | items | traced peak | RSS growth | seconds |", "|---|---:|---:|---:|---:|"]
        for memory in payload["memory"]:
            for point in memory["points"]:
                traced = "—" if point["traced_mb"] != point["traced_mb"] else f"{point['traced_mb']:.1f} MB"
                out.append(f"| {memory['name']} | {point['items']:,} | {traced} | "
                           f"{point['rss_mb'] - point['baseline_rss_mb']:.1f} MB | {point['seconds']:.1f} |")
        out.append("")
        out += [f"- {m['name']}: {m['verdict']}" for m in payload["memory"]]
    out += ["", "## CI floors (quick mode)", "",
            "`python -m benchmarks --quick --check` fails when the *upper end* of a group's ratio interval falls "
            "below *floor × (1 − margin)*, in two measurements in a row. The floor is the stated target where it is "
            "met, and the level measured now where it is missed (so CI catches a regression, not an old miss). The "
            "interval carries the noise within a run; the margin (at most 25 %) covers what differs between runs. "
            "Method and calibration: `benchmarks/README.md`.", "",
            "| group | stated target | CI floor | margin | fails below |", "|---|---:|---:|---:|---:|"]
    for name, target in targets.items():
        stated = f"{target.target:g}×" if target.target is not None else "—"
        out.append(f"| {name} | {stated} | {target.floor:g}× | {target.margin:.0%} | {target.fails_below:.2f}× |")
    if before is not None:
        out += before_and_after(payload, before, targets)
    if notes:
        out += ["", notes.strip()]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.report", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", nargs="+", type=Path, help="results JSON written by python -m benchmarks")
    parser.add_argument("--markdown", type=Path, help="write the report here")
    parser.add_argument("--check", action="store_true", help="exit 1 if a ratio fell below its CI floor")
    parser.add_argument("--noise", action="store_true",
                        help="ratios, interval widths and suggested floors/margins over several results files")
    parser.add_argument("--targets", type=Path, default=TARGETS)
    parser.add_argument("--before", type=Path, help="an earlier run's results JSON: add a before-and-after table")
    parser.add_argument("--notes", type=Path, help="a Markdown file appended to the report")
    args = parser.parse_args(argv)
    if args.noise:
        from benchmarks import calibrate

        return calibrate.main([*map(str, args.results), "--targets", str(args.targets)])
    payloads = [json.loads(path.read_text()) for path in args.results]
    targets = load_targets(args.targets)
    report = to_markdown(payloads[0], targets,
                         before=json.loads(args.before.read_text()) if args.before else None,
                         notes=args.notes.read_text() if args.notes else None)
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(report)
    else:
        print(report)
    if args.check:
        failures = check(payloads[0], targets)
        for failure in failures:
            print(f"REGRESSION {failure}", file=sys.stderr)
        return 1 if failures else 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
