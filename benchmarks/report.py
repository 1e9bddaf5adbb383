"""The benchmark report: a Markdown page from a results JSON, the CI regression check, and the noise analysis.

    python -m benchmarks.report RESULTS.json [--markdown PATH] [--check]
    python -m benchmarks.report --noise RUN1.json RUN2.json …     # ratio spread per group over repeated runs

Targets and CI floors come from ``benchmarks/targets.toml``: the *target* is what the issue states; the *floor*
is what CI enforces (the target where it is met, the level measured now where it is missed); the *margin* is the
relative noise measured for that group. CI fails when ``ratio < floor × (1 − margin)``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TARGETS = Path(__file__).with_name("targets.toml")
REPRODUCE = "python -m benchmarks --json docs/benchmarks.json --memory --markdown docs/benchmarks.md"


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
        """The ratio under which CI fails."""
        return self.floor * (1 - self.margin)


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
    """Every regression in ``payload``: a subject ratio below its floor minus the margin, or a group that has no
    entry in the targets file (a new case must state what CI should hold it to)."""
    failures: list[str] = []
    for group in payload["groups"]:
        name, ratio = group["name"], group["subject_ratio"]
        target = targets.get(name)
        if target is None:
            failures.append(f"{name}: no entry in {TARGETS.name}; add its floor and noise margin")
            continue
        if ratio is None or ratio < target.fails_below:
            failures.append(
                f"{name}: ratio {ratio:.2f} is below the CI floor {target.floor:g} minus the noise margin "
                f"{target.margin:.0%} (fails below {target.fails_below:.2f}); a regression, or an unusually "
                f"busy machine: rerun `python -m benchmarks {name} --quick --check` to tell them apart")
    for memory in payload.get("memory", []):
        if not memory["flat"]:
            failures.append(f"memory of {memory['name']}: {memory['verdict']}")
    return failures


# ------------------------------------------------------------------------------------------------ Markdown

def _case_ratio(group: dict[str, Any], label: str, baseline: str) -> float | None:
    speeds = {c["label"]: c["per_second"] for c in group["cases"]}
    if label not in speeds or baseline not in speeds or not speeds[baseline]:
        return None
    return float(speeds[label] / speeds[baseline])


def verdicts(group: dict[str, Any], target: Target | None) -> list[str]:
    """Plain sentences: "target X, measured Y, met/missed" for every stated target of ``group``."""
    lines: list[str] = []
    ratio = group["subject_ratio"]
    if target is None:
        return [f"no entry in {TARGETS.name}"]
    if target.target is not None and ratio is not None:
        verdict = "met" if ratio >= target.target else "**missed**"
        lines.append(f"target ≥ {target.target:g}× {group['baseline']}, measured {ratio:.2f}×: {verdict}")
    elif target.target is None and ratio is not None:
        lines.append(f"no stated target; measured {ratio:.2f}× {group['baseline']}")
    for extra in target.extra:
        measured = _case_ratio(group, extra.case, extra.baseline)
        if measured is not None:
            verdict = "met" if measured >= extra.minimum else "**missed**"
            lines.append(f"{extra.text or f'{extra.case} ≥ {extra.minimum:g}× {extra.baseline}'}: "
                         f"measured {measured:.2f}×: {verdict}")
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


def to_markdown(payload: dict[str, Any], targets: dict[str, Target], *, command: str = REPRODUCE) -> str:
    """The whole report: machine, command, one table row per case, the verdict per target, memory, CI floors."""
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
        "Every group runs its cases side by side, interleaved (A, B, A, B, …); each number is the median of the "
        "repeats; *ratio* is the case's throughput over the group's baseline. Absolute numbers belong to this "
        "machine on that afternoon — it is a shared 2-core machine, so single numbers move by ±30 % or more; "
        "compare ratios.",
        "",
        "| group | case | throughput | ratio to baseline | target |",
        "|---|---|---:|---:|---|",
    ]
    for group in payload["groups"]:
        target = targets.get(group["name"])
        for case in group["cases"]:
            note = ""
            if case["label"] == group["subject"]:
                note = "; ".join(verdicts(group, target))
            base = " (baseline)" if case["label"] == group["baseline"] else ""
            out.append(f"| {group['name']} | {case['label']}{base} | {case['per_second']:,.0f} {group['unit']}/s"
                       f" | {case['ratio_to_baseline']:.2f}× | {note} |")
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
            "`python -m benchmarks --quick --check` fails when a group's ratio falls below *floor × (1 − margin)*. "
            "The floor is the stated target where it is met, and the level measured now where it is missed (so CI "
            "catches a regression, not an old miss). The margin is the noise measured over repeated quick runs; "
            "see `benchmarks/README.md`.", "",
            "| group | stated target | CI floor | noise margin | fails below |", "|---|---:|---:|---:|---:|"]
    for name, target in targets.items():
        stated = f"{target.target:g}×" if target.target is not None else "—"
        out.append(f"| {name} | {stated} | {target.floor:g}× | {target.margin:.0%} | {target.fails_below:.2f}× |")
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------------------------------------ noise

@dataclass(frozen=True)
class Noise:
    """How one group's subject ratio varied over repeated identical runs."""

    group: str
    ratios: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.ratios)

    @property
    def spread(self) -> float:
        """(max − min) / median."""
        return (max(self.ratios) - min(self.ratios)) / self.median

    @property
    def low_deviation(self) -> float:
        """(median − min) / median: how far below its usual level the ratio fell in the worst run."""
        return (self.median - min(self.ratios)) / self.median


def noise(payloads: Sequence[dict[str, Any]]) -> list[Noise]:
    """Subject ratios per group across several results files (same mode, same machine)."""
    ratios: dict[str, list[float]] = {}
    for payload in payloads:
        for group in payload["groups"]:
            if group["subject_ratio"] is not None:
                ratios.setdefault(group["name"], []).append(group["subject_ratio"])
    return [Noise(name, values) for name, values in ratios.items()]


def suggested_margin(n: Noise, minimum: float = 0.15) -> float:
    """The worst downward deviation seen, rounded up to 5 %, and never below ``minimum``."""
    import math

    return max(minimum, math.ceil(n.low_deviation * 20) / 20)


def noise_table(rows: list[Noise]) -> str:
    """Markdown: per group, the ratios seen, their spread, and the margin they suggest."""
    lines = ["| group | runs | min | median | max | spread | worst drop | margin |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for n in rows:
        lines.append(f"| {n.group} | {len(n.ratios)} | {min(n.ratios):.2f} | {n.median:.2f} | {max(n.ratios):.2f} | "
                     f"{n.spread:.0%} | {n.low_deviation:.0%} | {suggested_margin(n):.0%} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.report", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", nargs="+", type=Path, help="results JSON written by python -m benchmarks")
    parser.add_argument("--markdown", type=Path, help="write the report here")
    parser.add_argument("--check", action="store_true", help="exit 1 if a ratio fell below its CI floor")
    parser.add_argument("--noise", action="store_true", help="analyse the spread over several results files")
    parser.add_argument("--targets", type=Path, default=TARGETS)
    args = parser.parse_args(argv)
    payloads = [json.loads(path.read_text()) for path in args.results]
    if args.noise:
        print(noise_table(noise(payloads)))
        return 0
    targets = load_targets(args.targets)
    report = to_markdown(payloads[0], targets)
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
