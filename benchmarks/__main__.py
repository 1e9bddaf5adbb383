"""``python -m benchmarks [NAMES] [--quick] [--check] [--memory] [--json PATH] [--markdown PATH] [--repeats N]``.

Runs the groups side by side and writes the results JSON and the Markdown report (``benchmarks.report``).
``--check`` exits 1 when the upper end of a group's ratio interval falls below its CI floor minus its margin
(``benchmarks/targets.toml``); a group that fails is measured once more first, and only a second failure counts.
Calibrate the floors and margins with ``python -m benchmarks.calibrate``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from benchmarks import report
from benchmarks.runner import (
    BUDGET_SECONDS,
    MAX_REPEATS,
    MIN_REPEATS,
    Group,
    GroupResult,
    cases_to_run,
    discover,
    run_group,
    write_json,
)


def services() -> str:
    """Which brokers the numbers came from (best effort: a missing answer is reported, not fatal)."""
    from course_lib.config import get_settings

    settings = get_settings()
    parts = []
    try:
        import base64
        import urllib.request
        from urllib.parse import urlsplit

        url = urlsplit(settings.rabbitmq_management_url)
        request = urllib.request.Request(f"{url.scheme}://{url.hostname}:{url.port}/api/overview")
        token = base64.b64encode(f"{url.username}:{url.password}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
        with urllib.request.urlopen(request, timeout=3) as response:
            parts.append(f"RabbitMQ {json.loads(response.read())['rabbitmq_version']}")
    except Exception:  # the management plugin is optional for benchmarks
        parts.append("RabbitMQ (version unknown: management API not reachable)")
    try:
        from course_lib.kafka_probe import is_tansu

        flavour = "Tansu (embedded, memory-only)" if is_tansu(settings.kafka_bootstrap_servers) else "Apache Kafka"
        parts.append(f"Kafka protocol: {flavour} at {settings.kafka_bootstrap_servers}")
    except Exception:
        parts.append("Kafka broker unknown")
    parts.append("SQLite on the local disk (journal_mode=WAL)")
    return "; ".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("names", nargs="*", help="group names or prefixes (default: all)")
    parser.add_argument("--quick", action="store_true", help="small sizes for CI smoke runs")
    parser.add_argument("--repeats", type=int, default=None,
                        help=f"rounds per group (default: as many as fit in --budget, {MIN_REPEATS} to {MAX_REPEATS})")
    parser.add_argument("--budget", type=float, default=None,
                        help=f"seconds of measured rounds per group (default {BUDGET_SECONDS[True]:g} quick, "
                             f"{BUDGET_SECONDS[False]:g} full)")
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results/latest.json"))
    parser.add_argument("--markdown", type=Path, default=None,
                        help="write the report here (default: next to the JSON, .md)")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if a ratio's interval lies wholly below its CI floor minus the margin")
    parser.add_argument("--memory", action="store_true",
                        help="also measure peak memory of the projection rebuild and the Kafka consume")
    parser.add_argument("--list", action="store_true", help="list the groups and exit")
    parser.add_argument("--before", type=Path, default=None,
                        help="an earlier run's results JSON: the report gains a before-and-after table of ratios")
    parser.add_argument("--notes", type=Path, default=None,
                        help="a Markdown file appended to the report (measurements that are not benchmark groups)")
    args = parser.parse_args(argv)
    groups = discover(args.names)
    if args.list:
        for group in groups:
            print(f"{group.name}: {', '.join(c.label for c in group.cases)} (baseline {group.baseline})")
        return 0
    if not groups:
        print(f"no benchmark group matches {args.names}", file=sys.stderr)
        return 2
    if args.repeats is not None and args.repeats < 2:
        parser.error("--repeats must be at least 2: a confidence interval needs two pairs of runs or more")
    targets = report.load_targets()
    started = time.perf_counter()

    def progress(line: str) -> None:
        print(line, file=sys.stderr)

    def measure(group: Group) -> GroupResult:
        return run_group(group, quick=args.quick, repeats=args.repeats, budget=args.budget, progress=progress)

    results: list[GroupResult] = []
    for group in groups:
        progress(f"{group.name} ({', '.join(c.label for c in cases_to_run(group, args.quick))})")
        result = measure(group)
        target = targets.get(group.name)
        if args.check and target is not None and target.regressed(result.subject_ratio_upper):
            # one noisy run must not fail CI: measure again, and only a second miss counts
            first = report.interval_text(result.subject_ratio, result.subject_ratio_ci)
            progress(f"  {group.name}: ratio {first} wholly below {target.fails_below:.2f}; measuring once more")
            result = measure(group)
            result.notes = (result.notes + f" (measured twice by --check: first ratio {first})").strip()
        progress(f"  {group.name}: {report.interval_text(result.subject_ratio, result.subject_ratio_ci)} "
                 f"from {result.repeats} pairs in {result.seconds:.1f} s")
        results.append(result)
    extra: dict[str, object] = {
        "seconds": round(time.perf_counter() - started, 1),
        "command": " ".join(["python -m benchmarks", *(argv if argv is not None else sys.argv[1:])]),
    }
    if args.memory:
        from benchmarks import memory

        extra["memory"] = memory.measure(quick=args.quick, progress=progress)
    payload = write_json(results, args.json, quick=args.quick, extra=extra)
    payload["machine"]["services"] = services()
    args.json.write_text(json.dumps(payload, indent=2))
    markdown = args.markdown or args.json.with_suffix(".md")
    markdown.parent.mkdir(parents=True, exist_ok=True)
    text = report.to_markdown(payload, targets, before=json.loads(args.before.read_text()) if args.before else None,
                              notes=args.notes.read_text() if args.notes else None)
    markdown.write_text(text)
    print(text)
    progress(f"JSON written to {args.json}, report to {markdown} ({extra['seconds']:.0f} s)")
    if args.check:
        failures = report.check(payload, targets)
        for failure in failures:
            progress(f"REGRESSION {failure}")
        if failures:
            return 1
        progress(f"check passed: {len(results)} group(s) at or above their CI floors")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
