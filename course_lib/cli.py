"""Command line: ``python -m course_lib doctor | services start|stop|status | lab | reset``."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from dataclasses import asdict

from course_lib.cli_reset import add_parser as add_reset_parser
from course_lib.config import PROJECT_ROOT, get_settings
from course_lib.errors import CourseError


def _doctor(args: argparse.Namespace) -> int:
    from course_lib.doctor import run_doctor

    report = run_doctor()
    if args.json:
        print(json.dumps({"ok": report.ok, "results": [asdict(r) for r in report.results]}, indent=2))
    else:
        print(report.to_text())
    return 0 if report.ok else 1


def _services(args: argparse.Namespace) -> int:
    from course_lib.services import kafka_broker, startup

    if args.action == "start":
        startup.report(startup.start_all())  # warns about what is missing; the course opens anyway
    elif args.action == "stop":
        stopped = kafka_broker.stop()
        print("Kafka:      " + ("stopped the embedded broker" if stopped else "no broker of the course's was running"))
        print("RabbitMQ and PostgreSQL are left running: other programs may use them.")
    else:
        print("Kafka:      " + kafka_broker.status().describe())
    return 0


def _lab(args: argparse.Namespace) -> int:
    from course_lib.doctor import run_doctor
    from course_lib.services import startup

    startup.report(startup.start_all())
    report = run_doctor()
    print(report.to_text())
    command = [sys.executable, "-m", "jupyter", "lab", "--ServerApp.ip=127.0.0.1", "notebooks/00_start_here.ipynb"]
    if args.no_browser:
        command.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # Jupyter refuses root without it (containers, CI machines)
    os.chdir(PROJECT_ROOT)
    return subprocess.call(command)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m course_lib`` and the ``course`` script."""
    parser = argparse.ArgumentParser(prog="python -m course_lib", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    doctor = sub.add_parser("doctor", help="pre-flight check of every service")
    doctor.add_argument("--json", action="store_true", help="print JSON instead of a table")
    doctor.set_defaults(func=_doctor)
    services = sub.add_parser("services", help="start, stop or show the local services")
    services.add_argument("action", choices=["start", "stop", "status"])
    services.set_defaults(func=_services)
    lab = sub.add_parser("lab", help="start the services, run the doctor, open JupyterLab on notebook 00")
    lab.add_argument("--no-browser", action="store_true")
    lab.set_defaults(func=_lab)
    add_reset_parser(sub)
    args = parser.parse_args(argv)
    get_settings.cache_clear()
    try:
        return int(args.func(args))
    except CourseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
