"""``python -m course_lib reset``: restore course state between exercises (see :mod:`course_lib.ops.reset`)."""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from course_lib.ops.reset import SERVICES, ResetScope, reset


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Add the ``reset`` subcommand to ``python -m course_lib``'s subparsers (``parser.add_subparsers()``)."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "reset", help="delete the course's queues, topics, groups, schemas and SQLite files (nothing else)",
        description="Delete what the notebooks created (names nbNN-…) on RabbitMQ, Kafka, PostgreSQL and in the "
                    "notebooks' SQLite folders. Other applications' resources are never touched.")
    parser.add_argument("--dry-run", action="store_true", help="list what would be deleted; delete nothing")
    parser.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    parser.add_argument("--include-test-leftovers", action="store_true",
                        help="also delete test runs' leftovers (names t-…)")
    parser.add_argument("--notebook", action="append", default=[], metavar="NN",
                        help="only this notebook's resources, e.g. --notebook 05 (repeatable)")
    parser.add_argument("--service", action="append", choices=SERVICES, default=[],
                        help="only this service (repeatable); default: all")
    parser.add_argument("--contains", default="", metavar="TEXT",
                        help="only names that contain TEXT (e.g. one run's id)")
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace, *, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    """Run the reset: 0 when everything matching is gone, 1 when a service was unreachable or refused, 2 when
    the user did not confirm."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    try:
        scope = ResetScope(frozenset(args.notebook), args.include_test_leftovers, args.contains)
    except ValueError as exc:
        print(f"error: {exc}", file=stdout)
        return 2
    services = args.service or list(SERVICES)
    if not args.dry_run and not args.yes:
        plan = reset(scope, dry_run=True, services=services)
        print(plan.to_text().rsplit("\n", 1)[0], file=stdout)  # the listing, without the dry run's last line
        if not stdin.isatty():
            print("Refusing to delete without confirmation: run this in a terminal, or add --yes "
                  "(see the list above; --dry-run only lists).", file=stdout)
            return 2
        stdout.write("Delete all of the above? [y/N] ")
        stdout.flush()
        if stdin.readline().strip().lower() not in {"y", "yes"}:
            print("Nothing deleted.", file=stdout)
            return 2
    report = reset(scope, dry_run=args.dry_run, services=services)
    print(report.to_text(), file=stdout)
    return 0 if report.ok else 1


def main(argv: list[str] | None = None) -> int:
    """Run ``reset`` on its own (``python -m course_lib.ops.cli_reset``), with the same options, settings checks and
    exit codes as ``python -m course_lib reset``."""
    from course_lib.ops.cli import main as course_main

    return course_main(["reset", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    raise SystemExit(main())
