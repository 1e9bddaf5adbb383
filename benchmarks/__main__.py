"""``python -m benchmarks [NAMES] [--quick] [--json PATH] [--markdown PATH] [--repeats N]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from benchmarks.runner import discover, run_group, to_markdown, write_json


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("names", nargs="*", help="group names or prefixes (default: all)")
    parser.add_argument("--quick", action="store_true", help="small sizes for CI smoke runs")
    parser.add_argument("--repeats", type=int, default=None, help="runs per case (default 3, quick 2)")
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results/latest.json"))
    parser.add_argument("--markdown", type=Path, default=None, help="also write the table here")
    parser.add_argument("--list", action="store_true", help="list the groups and exit")
    args = parser.parse_args(argv)
    groups = discover(args.names)
    if args.list:
        for group in groups:
            print(f"{group.name}: {', '.join(c.label for c in group.cases)} (baseline {group.baseline})")
        return 0
    if not groups:
        print(f"no benchmark group matches {args.names}", file=sys.stderr)
        return 2
    repeats = args.repeats or (2 if args.quick else 3)
    results = []
    for group in groups:
        print(f"{group.name} ({len(group.cases)} cases × {repeats})", file=sys.stderr)
        results.append(run_group(group, quick=args.quick, repeats=repeats,
                                 progress=lambda line: print(line, file=sys.stderr)))
    table = to_markdown(results)
    print(table)
    write_json(results, args.json, quick=args.quick)
    print(f"\nJSON written to {args.json}", file=sys.stderr)
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(table + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
