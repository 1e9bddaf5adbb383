"""``services start``: start what can be started, Kafka first, and say plainly what is still missing.

Nothing here stops the course from opening: notebooks 00-04 need no broker, and a notebook whose service is
missing stops at its first cell with the fix (``course_lib.ops.services.require``). So a missing RabbitMQ is a
warning with the command that fixes it, not an error that keeps JupyterLab closed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from course_lib.config import Settings, get_settings
from course_lib.errors import CourseError, ServiceUnavailable
from course_lib.ops.services import kafka_broker, postgres_server, rabbitmq_server
from course_lib.ops.services.needs import notebooks_without
from course_lib.ops.services.ports import Say, say_flushed


@dataclass(frozen=True)
class Outcome:
    """What ``start_all`` did for one service."""

    service: str  # "kafka", "rabbitmq" or "postgres", as ``require`` names them
    label: str
    ok: bool
    message: str
    fix: str = ""
    required: bool = True


def _attempt(service: str, label: str, action: Callable[[], str], *, required: bool = True) -> Outcome:
    try:
        return Outcome(service, label, True, action())
    except ServiceUnavailable as exc:
        return Outcome(service, label, False, f"not ready at {exc.url}: {exc.reason}", exc.fix, required)
    except CourseError as exc:
        first, _, rest = str(exc).partition("\n")
        return Outcome(service, label, False, first, rest.strip().removeprefix("How to fix:").strip(), required)


def start_all(settings: Settings | None = None, *, say: Say = say_flushed) -> list[Outcome]:
    """Start the embedded Kafka broker, then RabbitMQ, then PostgreSQL; never raises for a missing service."""
    settings = settings or get_settings()
    return [
        _attempt("kafka", "Kafka", lambda: kafka_broker.start(settings, say=say).describe()),
        _attempt("rabbitmq", "RabbitMQ", lambda: rabbitmq_server.ensure_running(settings, say=say)),
        _attempt("postgres", "PostgreSQL", lambda: postgres_server.ensure_postgres_running(settings, say=say),
                 required=False),
    ]


def report(outcomes: list[Outcome], say: Say = say_flushed) -> None:
    """One line per service, then a warning with the fix for each that is not ready."""
    for outcome in outcomes:
        say(f"{outcome.label + ':':<12}{outcome.message if outcome.ok else 'NOT READY'}")
    for outcome in outcomes:
        if outcome.ok:
            continue
        kind = "warning" if outcome.required else "note"
        say(f"{kind}: {outcome.label} is {outcome.message}")
        if outcome.fix:
            say(f"  How to fix: {outcome.fix}")
        say(f"  Until then these notebooks run without it: {', '.join(notebooks_without(outcome.service))}")
    if any(not o.ok and o.required for o in outcomes):
        say("The course opens anyway. `python -m course_lib doctor` checks every service again.")
