"""The doctor's checks, one per service: each answers within its timeout and names the address and the fix.

Every failing row says *which* address failed and *how* — nothing listens, it accepted but never answered (hung),
the host does not resolve, the login or the vhost/database was refused, or it is not that service at all — because
each of those has a different fix. :mod:`course_lib.ops.doctor` runs them side by side and renders the table.
"""

from __future__ import annotations

import contextlib
import sqlite3
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from course_lib.config import Settings, redact
from course_lib.errors import CourseError, ServiceUnavailable
from course_lib.failures import Advice, FailureKind, advise, host_port, network_cause
from course_lib.kafka_probe import KafkaProbeFailed, identify

RABBITMQ = "RabbitMQ (AMQP)"
MANAGEMENT = "RabbitMQ management"
KAFKA = "Kafka broker"
POSTGRES = "PostgreSQL"
EVENT_STORE = "Event store"
STATE_FOLDER = "State folder"

START_SERVICES = "python -m course_lib services start"


@dataclass(frozen=True)
class CheckResult:
    """One row of the doctor's table."""

    service: str
    ok: bool
    url: str
    version: str = ""
    latency_ms: float | None = None
    detail: str = ""
    fix: str = ""
    required: bool = True


def failed(service: str, address: str, reason: str, fix: str, *, required: bool = True) -> CheckResult:
    """A red row whose detail starts with the address that failed."""
    return CheckResult(service, False, address, detail=f"{address}: {reason}"[:400], fix=fix, required=required)


def check_rabbitmq(settings: Settings) -> CheckResult:
    """AMQP handshake with RabbitMQ; reports the server version."""
    from course_lib.messaging.rabbitmq.connection import connect

    url = redact(settings.rabbitmq_url)
    try:
        connection = connect(settings.rabbitmq_url, name="course-doctor", timeout=settings.connect_timeout_s)
    except ServiceUnavailable as exc:
        return failed(RABBITMQ, url, exc.reason, exc.fix)
    try:
        version = connection._impl.server_properties.get("version", b"")
        version = version.decode() if isinstance(version, bytes) else str(version)
    finally:
        with contextlib.suppress(Exception):  # the version is read; a failing close changes nothing
            connection.close()
    return CheckResult(RABBITMQ, True, url, version=f"RabbitMQ {version}", detail=url)


MANAGEMENT_ADVICE: Advice = {
    FailureKind.REFUSED: (
        "nothing listens at {address} (connection refused)",
        f"rabbitmq-plugins enable rabbitmq_management   (and if RabbitMQ is down: {START_SERVICES})",
    ),
    FailureKind.UNREACHABLE: (
        "{address} did not accept a connection within {timeout_s:g} s",
        "correct the host and port in COURSE_RABBITMQ_MANAGEMENT_URL (a firewall may drop the packets)",
    ),
    FailureKind.TIMEOUT: (
        "{address} accepted the connection but did not answer within {timeout_s:g} s",
        "the RabbitMQ there is hung: check it with `rabbitmq-diagnostics status` and restart it (`rabbitmqctl stop`, "
        "then `rabbitmq-server -detached`; with Docker `docker compose restart rabbitmq`); if another program holds "
        "that port, point COURSE_RABBITMQ_MANAGEMENT_URL at 15672",
    ),
    FailureKind.DNS: (
        "cannot resolve the host {host!r}",
        "correct the host in COURSE_RABBITMQ_MANAGEMENT_URL; for a broker on this machine use 127.0.0.1",
    ),
    FailureKind.AUTH: (
        "the management API refused the login of user {user!r}",
        "check user and password in COURSE_RABBITMQ_MANAGEMENT_URL (guest works only from 127.0.0.1); the user "
        "needs a management tag: `rabbitmqctl set_user_tags USER management`",
    ),
    FailureKind.OTHER: (
        "{address} answers, but {answer}",
        "point COURSE_RABBITMQ_MANAGEMENT_URL at the management plugin's port (15672; 5672 is AMQP) and enable "
        "the plugin: rabbitmq-plugins enable rabbitmq_management",
    ),
}


def _request_failure(exc: Exception) -> FailureKind:
    import requests

    if isinstance(exc, requests.ConnectTimeout):
        return FailureKind.UNREACHABLE
    if isinstance(exc, requests.Timeout):
        return FailureKind.TIMEOUT
    return network_cause(exc) or FailureKind.OTHER  # OTHER: it closed the connection without an HTTP answer


def _management_version(response: Any) -> str | None:
    try:
        return str(response.json()["rabbitmq_version"]) if response.ok else None
    except (ValueError, KeyError, TypeError):
        return None


def check_rabbitmq_management(settings: Settings) -> CheckResult:
    """The management HTTP API, which widgets use for queue depths."""
    import requests

    url = redact(settings.rabbitmq_management_url)
    parts = urlsplit(settings.rabbitmq_management_url)
    address = host_port(parts.hostname, parts.port or (443 if parts.scheme == "https" else 15672))
    user = parts.username or "guest"
    context = {"address": address, "host": parts.hostname, "user": user, "timeout_s": settings.connect_timeout_s}
    try:
        response = requests.get(f"{parts._replace(netloc=address).geturl()}/api/overview",
                                auth=(user, parts.password or "guest"), timeout=settings.connect_timeout_s)
    except requests.RequestException as exc:
        reason, fix = advise(_request_failure(exc), MANAGEMENT_ADVICE, answer=f"not in HTTP ({type(exc).__name__})",
                             **context)
        return failed(MANAGEMENT, url, reason, fix)
    version = _management_version(response)
    if version is None:
        kind = FailureKind.AUTH if response.status_code == 401 else FailureKind.OTHER
        answer = f"with HTTP {response.status_code}: it is not RabbitMQ's management API"
        return failed(MANAGEMENT, url, *advise(kind, MANAGEMENT_ADVICE, answer=answer, **context))
    return CheckResult(MANAGEMENT, True, url, version=f"RabbitMQ {version}", detail=url)


def check_kafka(settings: Settings) -> CheckResult:
    """A Kafka-protocol handshake; says whether it is Apache Kafka or the embedded Tansu broker."""
    bootstrap = settings.kafka_bootstrap_servers
    try:
        identity = identify(bootstrap, timeout_s=settings.connect_timeout_s)
    except KafkaProbeFailed as exc:
        return failed(KAFKA, bootstrap, exc.reason, exc.fix)
    name = "Apache Kafka" if identity.flavour == "apache-kafka" else "Tansu (embedded)"
    return CheckResult(KAFKA, True, bootstrap, version=name, detail=f"{bootstrap}, cluster {identity.cluster_id}")


def check_postgres(settings: Settings) -> CheckResult:
    """PostgreSQL, for the PostgreSQL event store. Optional unless the store URL points at it."""
    from course_lib import pg

    url = redact(settings.postgres_url)
    required = settings.eventstore_url.startswith("postgres")
    optional = "" if required else " (optional)"
    try:
        conn = pg.connect(settings.postgres_url, connect_timeout=settings.connect_timeout_s)
    except ServiceUnavailable as exc:
        return failed(POSTGRES, url, exc.reason + optional, exc.fix, required=required)
    except CourseError as exc:  # psycopg is not installed
        return failed(POSTGRES, url, str(exc) + optional, "pip install -c constraints.txt -e '.[postgres]'",
                      required=required)
    with conn:
        version = conn.execute("show server_version").fetchone()
    return CheckResult(POSTGRES, True, url, version=f"PostgreSQL {version[0] if version else '?'}",
                       detail=url, required=required)


def _store_fix(url: str, exc: Exception, settings: Settings) -> str:
    text = str(exc).lower()
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):]
        if "not a database" in text or "malformed" in text:
            return (f"{path} is not a readable SQLite database (damaged, or another kind of file): move it away "
                    "(a new store starts empty) or point COURSE_EVENTSTORE_URL at another file")
        if "locked" in text:
            return "another process holds a write lock on it: stop that process (a notebook kernel, a demo)"
        return (f"point COURSE_EVENTSTORE_URL at a file in a folder you can write to, "
                f"e.g. sqlite:///{settings.state_dir / 'events.db'}")
    if url.startswith("postgres"):
        return ("the user in COURSE_EVENTSTORE_URL must be allowed to create the event store's schema and tables "
                "(`GRANT CREATE ON DATABASE …`), or name another database")
    return "set COURSE_EVENTSTORE_URL to sqlite:///path/to/events.db, postgresql://USER@HOST:5432/DATABASE or memory://"


def _store_options(url: str, timeout_s: float) -> dict[str, Any]:
    if url.startswith("sqlite:"):
        return {"busy_timeout": timeout_s}
    if url.startswith("postgres"):
        return {"connect_timeout": max(1, int(timeout_s))}
    return {}


def check_event_store(settings: Settings) -> CheckResult:
    """Open (and close) the event store ``COURSE_EVENTSTORE_URL`` names, as the notebooks will."""
    from course_lib.eventstore import open_store

    url = settings.eventstore_url
    shown = redact(url)
    try:
        store = open_store(url, **_store_options(url, settings.connect_timeout_s))
    except ServiceUnavailable as exc:  # pg.connect's advice names COURSE_POSTGRES_URL; here the store's URL failed
        return failed(EVENT_STORE, shown, exc.reason, exc.fix.replace("COURSE_POSTGRES_URL", "COURSE_EVENTSTORE_URL"))
    except Exception as exc:  # the backends raise sqlite3, psycopg, OS and value errors of their own
        first_line = (str(exc).strip().splitlines() or [""])[0]
        return failed(EVENT_STORE, shown, f"cannot open it ({type(exc).__name__}: {first_line})",
                      _store_fix(url, exc, settings))
    with contextlib.suppress(Exception):  # opened is what we wanted to know
        store.close()
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        return CheckResult(EVENT_STORE, True, shown, version=f"SQLite {sqlite3.sqlite_version}", detail=shown)
    if scheme == "memory":
        return CheckResult(EVENT_STORE, True, shown, version="in memory",
                           detail=f"{shown} (events last only as long as the Python process)")
    return CheckResult(EVENT_STORE, True, shown, version="PostgreSQL", detail=shown)


def check_state_folder(settings: Settings) -> CheckResult:
    """The folder for the notebooks' SQLite files, pid files and logs exists and is writable."""
    state = settings.state_dir
    try:
        state.mkdir(parents=True, exist_ok=True)
        probe = state / ".doctor-write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        return failed(STATE_FOLDER, str(state), exc.strerror or str(exc),
                      "set COURSE_STATE_DIR to a folder you can write to")
    return CheckResult(STATE_FOLDER, True, str(state), detail=str(state))
