"""Command line: ``python -m course_lib doctor | services start|stop|status | lab | reset | progress``.

Exit codes: 0 all good, 1 a service is not ready (doctor) or a reset failed, 2 the command could not run — a
malformed setting (one line per bad value on stderr), a service that cannot be started, no confirmation.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from dataclasses import asdict

from course_lib.config import PROJECT_ROOT, SettingsError, get_settings
from course_lib.errors import CourseError
from course_lib.ops.cli_reset import add_parser as add_reset_parser


def _doctor(args: argparse.Namespace) -> int:
    from course_lib.ops.doctor import run_doctor

    report = run_doctor()
    if args.json:
        print(json.dumps({"ok": report.ok, "results": [asdict(r) for r in report.results]}, indent=2))
    else:
        print(report.to_text())
    return 0 if report.ok else 1


def _services(args: argparse.Namespace) -> int:
    from course_lib.ops.services import kafka_broker, startup

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
    from course_lib.labconfig import lab_command, lab_environment
    from course_lib.ops.doctor import run_doctor
    from course_lib.ops.services import startup

    startup.report(startup.start_all())
    report = run_doctor()
    print(report.to_text())
    command = lab_command("notebooks/00_start_here.ipynb", no_browser=args.no_browser)
    os.chdir(PROJECT_ROOT)
    return subprocess.call(command, env=lab_environment(get_settings().state_dir / "jupyter-config"))


def _progress(args: argparse.Namespace) -> int:
    from course_lib import progress

    if args.json:
        print(json.dumps({info.exercise_id: (vars(record) if record else None)
                          for info, record in progress.rows()}, indent=2))
    else:
        print(progress.table())
    return 0


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
    progress = sub.add_parser("progress", help="which exercises you have passed, notebook by notebook")
    progress.add_argument("--json", action="store_true", help="print JSON instead of a table")
    progress.set_defaults(func=_progress)
    args = parser.parse_args(argv)
    get_settings.cache_clear()
    try:
        get_settings()  # every command needs them: refuse malformed settings before touching any service
        return int(args.func(args))
    except SettingsError as exc:
        if getattr(args, "json", False):
            problems = [asdict(problem) for problem in exc.problems]
            print(json.dumps({"ok": False, "settings_errors": problems, "results": []}, indent=2))
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except CourseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
