"""The pre-flight doctor: is every service the course needs reachable, which version, how fast.

Each check answers within a few seconds even when a service is down or a URL points at a closed port, and every
failure carries the command that fixes it. Learners see the result as a table in notebook 00; instructors run
``python -m course_lib doctor`` on every laptop before a workshop.
"""

from __future__ import annotations

import functools
import html
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from course_lib.config import Settings, get_settings, redact
from course_lib.services.kafka_probe import identify_kafka
from course_lib.services.ports import port_open


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


@dataclass(frozen=True)
class DoctorReport:
    """All rows; renders as a text table (terminal) or an HTML table (notebook)."""

    results: list[CheckResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every required service is reachable."""
        return all(r.ok for r in self.results if r.required)

    def row(self, service: str) -> CheckResult:
        """The row for one service, by name."""
        return next(r for r in self.results if r.service == service)

    def to_text(self) -> str:
        lines = [f"{'':2} {'service':<22} {'version':<28} {'latency':>9}  detail"]
        for r in self.results:
            mark = "OK" if r.ok else ("--" if not r.required else "XX")
            latency = f"{r.latency_ms:.0f} ms" if r.latency_ms is not None else ""
            lines.append(f"{mark:2} {r.service:<22} {r.version:<28} {latency:>9}  {r.detail or r.url}")
            if not r.ok and r.fix:
                lines.append(f"{'':26}fix: {r.fix}")
        lines.append("All required services are ready." if self.ok else "Some required services are not ready.")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        rows = []
        for r in self.results:
            colour = "#1a7f37" if r.ok else ("#9a6700" if not r.required else "#cf222e")
            mark = "✔" if r.ok else ("○" if not r.required else "✘")
            latency = f"{r.latency_ms:.0f} ms" if r.latency_ms is not None else ""
            fix = f"<br><b>fix:</b> <code>{html.escape(r.fix)}</code>" if (not r.ok and r.fix) else ""
            rows.append(
                f"<tr><td style='color:{colour};font-weight:bold'>{mark}</td><td>{html.escape(r.service)}</td>"
                f"<td>{html.escape(r.version)}</td><td style='text-align:right'>{latency}</td>"
                f"<td style='text-align:left'>{html.escape(r.detail or r.url)}{fix}</td></tr>"
            )
        verdict = "All required services are ready." if self.ok else "Some required services are not ready."
        return (
            "<table class='course-doctor'><thead><tr><th></th><th>service</th><th>version</th>"
            "<th>latency</th><th style='text-align:left'>detail</th></tr></thead><tbody>"
            + "".join(rows) + f"</tbody></table><p><b>{verdict}</b></p>"
        )


def _timed(fn: Callable[[], CheckResult]) -> CheckResult:
    start = time.perf_counter()
    result = fn()
    if result.ok and result.latency_ms is None:
        return CheckResult(**{**result.__dict__, "latency_ms": (time.perf_counter() - start) * 1000})
    return result


def check_rabbitmq(settings: Settings) -> CheckResult:
    """AMQP handshake with RabbitMQ; reports the server version."""
    import pika

    url = redact(settings.rabbitmq_url)
    fix = "python -m course_lib services start   (or: rabbitmq-server -detached, or docker compose up -d rabbitmq)"
    parts = urlsplit(settings.rabbitmq_url)
    if not port_open(parts.hostname or "127.0.0.1", parts.port or 5672, timeout=settings.connect_timeout_s):
        return CheckResult("RabbitMQ (AMQP)", False, url, detail=f"nothing listens at {url}", fix=fix)
    params = pika.URLParameters(settings.rabbitmq_url)
    params.socket_timeout = settings.connect_timeout_s
    params.blocked_connection_timeout = settings.connect_timeout_s
    params.connection_attempts = 1
    params.stack_timeout = settings.connect_timeout_s
    try:
        connection = pika.BlockingConnection(params)
    except Exception as exc:
        return CheckResult("RabbitMQ (AMQP)", False, url, detail=f"{type(exc).__name__}: {exc}"[:200],
                           fix="check the user and password in COURSE_RABBITMQ_URL (guest works only on 127.0.0.1)")
    try:
        props = connection._impl.server_properties
        version = props.get("version", b"")
        version = version.decode() if isinstance(version, bytes) else str(version)
    finally:
        connection.close()
    return CheckResult("RabbitMQ (AMQP)", True, url, version=f"RabbitMQ {version}", detail=url)


def check_rabbitmq_management(settings: Settings) -> CheckResult:
    """The management HTTP API, which widgets use for queue depths."""
    import requests

    url = redact(settings.rabbitmq_management_url)
    fix = "rabbitmq-plugins enable rabbitmq_management"
    parts = urlsplit(settings.rabbitmq_management_url)
    if not port_open(parts.hostname or "127.0.0.1", parts.port or 15672, timeout=settings.connect_timeout_s):
        return CheckResult("RabbitMQ management", False, url, detail=f"nothing listens at {url}", fix=fix)
    bare = parts._replace(netloc=f"{parts.hostname}:{parts.port or 15672}").geturl()
    try:
        response = requests.get(f"{bare}/api/overview", auth=(parts.username or "guest", parts.password or "guest"),
                                timeout=settings.connect_timeout_s)
        response.raise_for_status()
        version = response.json().get("rabbitmq_version", "?")
    except Exception as exc:
        return CheckResult("RabbitMQ management", False, url, detail=f"{type(exc).__name__}: {exc}"[:200], fix=fix)
    return CheckResult("RabbitMQ management", True, url, version=f"RabbitMQ {version}", detail=url)


def check_kafka(settings: Settings) -> CheckResult:
    """A Kafka-protocol handshake; says whether it is Apache Kafka or the embedded Tansu broker."""
    bootstrap = settings.kafka_bootstrap_servers
    host, port = settings.kafka_host_port
    fix = "python -m course_lib services start   (or: docker compose up -d kafka)"
    if not port_open(host, port, timeout=settings.connect_timeout_s):
        return CheckResult("Kafka broker", False, bootstrap, detail=f"nothing listens at {bootstrap}", fix=fix)
    identity = identify_kafka(bootstrap, timeout_s=settings.connect_timeout_s)
    if identity is None:
        return CheckResult("Kafka broker", False, bootstrap, detail=f"{bootstrap} answers but does not speak Kafka",
                           fix=f"free port {port} or set COURSE_KAFKA_BOOTSTRAP_SERVERS")
    name = "Apache Kafka" if identity.flavour == "apache-kafka" else "Tansu (embedded)"
    return CheckResult("Kafka broker", True, bootstrap, version=name,
                       detail=f"{bootstrap}, cluster {identity.cluster_id}")


def check_postgres(settings: Settings) -> CheckResult:
    """PostgreSQL, for the PostgreSQL event store. Optional unless the store URL points at it."""
    url = redact(settings.postgres_url)
    required = settings.eventstore_url.startswith("postgres")
    fix = "docker compose --profile postgres up -d   (or start your local PostgreSQL)"
    parts = urlsplit(settings.postgres_url)
    if not port_open(parts.hostname or "127.0.0.1", parts.port or 5432, timeout=settings.connect_timeout_s):
        return CheckResult("PostgreSQL", False, url, detail=f"nothing listens at {url} (optional)", fix=fix,
                           required=required)
    try:
        import psycopg
    except ImportError:
        return CheckResult("PostgreSQL", False, url, detail="psycopg is not installed",
                           fix="pip install -c constraints.txt -e '.[postgres]'", required=required)
    try:
        with psycopg.connect(settings.postgres_url, connect_timeout=int(settings.connect_timeout_s)) as conn:
            version = conn.execute("show server_version").fetchone()
    except Exception as exc:
        return CheckResult("PostgreSQL", False, url, detail=f"{type(exc).__name__}: {exc}"[:200], fix=fix,
                           required=required)
    return CheckResult("PostgreSQL", True, url, version=f"PostgreSQL {version[0] if version else '?'}",
                       detail=url, required=required)


def check_sqlite(settings: Settings) -> CheckResult:
    """The embedded event store's folder is writable and SQLite is recent enough."""
    state = settings.state_dir
    try:
        state.mkdir(parents=True, exist_ok=True)
        probe = state / ".doctor-write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        return CheckResult("SQLite event store", False, str(state), detail=str(exc),
                           fix="set COURSE_STATE_DIR to a writable folder")
    return CheckResult("SQLite event store", True, str(state), version=f"SQLite {sqlite3.sqlite_version}",
                       detail=str(state))


CHECKS: list[Callable[[Settings], CheckResult]] = [
    check_rabbitmq, check_rabbitmq_management, check_kafka, check_postgres, check_sqlite,
]


def run_doctor(settings: Settings | None = None) -> DoctorReport:
    """Run every check in parallel; the slowest bounds the total (a few seconds at most)."""
    settings = settings or get_settings()
    with ThreadPoolExecutor(max_workers=len(CHECKS)) as pool:
        futures = [pool.submit(_timed, functools.partial(check, settings)) for check in CHECKS]
        return DoctorReport([f.result() for f in futures])
