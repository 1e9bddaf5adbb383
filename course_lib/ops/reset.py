"""Restore course state between exercises: delete what the notebooks created, and nothing else.

The course's naming rule makes this safe. Every RabbitMQ queue and exchange, Kafka topic and consumer group a
notebook creates is named ``nbNN-…`` (NN = the notebook's number); PostgreSQL schemas and tables ``nbNN_…``; the
notebooks' SQLite work folders ``course-nbNN-…`` or ``nbNN-…`` in the system's temporary folder. Tests use
``t-…`` (``t_…`` in PostgreSQL), which are only touched with ``include_test_leftovers``. Anything else — another
application's queues, the broker's own ``amq.*`` exchanges, the embedded broker's pid and log files — is never
touched.

Each service is reset on its own: one that cannot be reached is reported with the fix while the others are reset.
Use ``reset(dry_run=True)`` (``python -m course_lib reset --dry-run``) to see what would go.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from course_lib.config import Settings, get_settings, redact
from course_lib.errors import ServiceUnavailable

SERVICES = ("RabbitMQ", "Kafka", "PostgreSQL", "SQLite files")

# Files in the state folder that are not course state: the embedded Kafka broker's pid and log. Deleting the pid
# file would orphan a running broker, so only database files are ever candidates.
_DATABASE_FILE = re.compile(r"\.(db|sqlite3?)(-wal|-shm|-journal)?$")


@dataclass(frozen=True)
class ResetScope:
    """Which names belong to the course.

    ``notebooks``: only these notebooks' resources (``{"05"}``), or every notebook when empty.
    ``include_test_leftovers``: also ``t-…`` / ``t_…`` names that an interrupted test run left behind.
    ``contains``: only names containing this text (narrows a reset to one run; the tests use it).
    """

    notebooks: frozenset[str] = frozenset()
    include_test_leftovers: bool = False
    contains: str = ""

    def __post_init__(self) -> None:
        for number in self.notebooks:
            if not re.fullmatch(r"\d\d", number):
                raise ValueError(f"notebook numbers are two digits, like 05; got {number!r}")

    def matches(self, name: str, sep: str = "-", prefix: str = "") -> bool:
        """True when ``name`` is the course's: ``{prefix}nbNN{sep}…`` (or ``t{sep}…`` with test leftovers)."""
        if self.contains and self.contains not in name:
            return False
        number = "|".join(sorted(self.notebooks)) if self.notebooks else r"\d\d"
        if re.match(rf"^{re.escape(prefix)}nb(?:{number}){re.escape(sep)}", name):
            return True
        return self.include_test_leftovers and name.startswith(f"t{sep}")


@dataclass
class ServiceReset:
    """What happened to one service: the names deleted (or, in a dry run, to be deleted) and what went wrong."""

    service: str
    deleted: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # "name: reason" for items that could not be deleted
    unreachable: str = ""  # why the service could not be reached at all, with the fix

    @property
    def ok(self) -> bool:
        return not self.unreachable and not self.failed


@dataclass
class ResetReport:
    """One ``ServiceReset`` per service, in the order of :data:`SERVICES`."""

    results: list[ServiceReset]
    dry_run: bool

    @property
    def ok(self) -> bool:
        """True when every service was reached and everything matching was deleted."""
        return all(r.ok for r in self.results)

    def service(self, name: str) -> ServiceReset:
        """The result for one service, by name."""
        return next(r for r in self.results if r.service == name)

    def to_text(self) -> str:
        verb = "would delete" if self.dry_run else "deleted"
        lines: list[str] = []
        for r in self.results:
            if r.unreachable:
                lines.append(f"{r.service}: NOT RESET — {r.unreachable}")
                continue
            lines.append(f"{r.service}: {verb} {len(r.deleted)}")
            lines += [f"    {name}" for name in r.deleted]
            lines += [f"    could not delete {item}" for item in r.failed]
        if self.dry_run:
            lines.append("Dry run: nothing was deleted. Run again without --dry-run to delete.")
        elif self.ok:
            lines.append("Course state reset.")
        else:
            lines.append("Reset incomplete: fix what is named above and run the reset again.")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()


def _unreachable(exc: Exception) -> str:
    if isinstance(exc, ServiceUnavailable):
        return f"not reachable at {exc.url}: {exc.reason}. Fix: {exc.fix}"
    return f"{type(exc).__name__}: {exc}"[:300]


def _run(service: str, job: Callable[[ServiceReset], None]) -> ServiceReset:
    """Run one service's reset; any failure to reach it is reported, never raised (the others still run)."""
    result = ServiceReset(service)
    try:
        job(result)
    except Exception as exc:  # a service that is down or refuses us must not stop the reset of the others
        result.unreachable = _unreachable(exc)
    return result


# --- RabbitMQ: list through the management API, delete over AMQP --------------------------------------------

def _rabbitmq_names(settings: Settings, what: str, vhost: str) -> list[str]:
    import requests

    parts = urlsplit(settings.rabbitmq_management_url)
    base = parts._replace(netloc=f"{parts.hostname}:{parts.port or 15672}").geturl()
    try:
        response = requests.get(f"{base}/api/{what}/{quote(vhost, safe='')}", params={"columns": "name"},
                                auth=(parts.username or "guest", parts.password or "guest"),
                                timeout=settings.connect_timeout_s)
        response.raise_for_status()
    except requests.RequestException as exc:
        raise ServiceUnavailable(
            "RabbitMQ management API", redact(settings.rabbitmq_management_url),
            f"cannot list {what} ({type(exc).__name__})",
            "rabbitmq-plugins enable rabbitmq_management (the reset lists queues through it), "
            "or set COURSE_RABBITMQ_MANAGEMENT_URL",
        ) from exc
    return sorted(item["name"] for item in response.json())


def reset_rabbitmq(scope: ResetScope, *, dry_run: bool, settings: Settings | None = None) -> ServiceReset:
    """Delete the course's queues and exchanges (``amq.*`` and the default exchange never match)."""
    settings = settings or get_settings()

    def job(result: ServiceReset) -> None:
        import pika.exceptions

        from course_lib.messaging.rabbitmq.connection import connect

        vhost = unquote(urlsplit(settings.rabbitmq_url).path.lstrip("/")) or "/"
        queues = [q for q in _rabbitmq_names(settings, "queues", vhost) if scope.matches(q)]
        exchanges = [x for x in _rabbitmq_names(settings, "exchanges", vhost) if scope.matches(x)]
        items = [("queue", q) for q in queues] + [("exchange", x) for x in exchanges]
        if dry_run:
            result.deleted = [f"{kind} {name}" for kind, name in items]
            return
        if not items:
            return
        connection = connect(settings.rabbitmq_url, name="course-reset")
        try:
            channel = connection.channel()
            for kind, name in items:
                try:
                    if kind == "queue":
                        channel.queue_delete(name)
                    else:
                        channel.exchange_delete(name)
                    result.deleted.append(f"{kind} {name}")
                except pika.exceptions.ChannelClosedByBroker as exc:
                    # e.g. an exclusive queue another connection still owns: a notebook's kernel is running
                    result.failed.append(f"{kind} {name}: {exc.reply_text} — restart that notebook's kernel, "
                                         "then reset again")
                    channel = connection.channel()
        finally:
            if connection.is_open:
                connection.close()

    return _run("RabbitMQ", job)


# --- Kafka: topics and consumer groups through the admin client ----------------------------------------------

def reset_kafka(scope: ResetScope, *, dry_run: bool, settings: Settings | None = None) -> ServiceReset:
    """Delete the course's topics and consumer groups (groups first: a group's offsets name its topics)."""
    settings = settings or get_settings()

    def job(result: ServiceReset) -> None:
        from kafka.admin import KafkaAdminClient

        from course_lib.messaging.kafka.connection import connect

        bootstrap = settings.kafka_bootstrap_servers
        admin = connect(lambda: KafkaAdminClient(bootstrap_servers=bootstrap, client_id="course-reset",
                                                 request_timeout_ms=10_000), bootstrap)
        try:
            groups = sorted(g["group_id"] for g in admin.list_groups() if scope.matches(g["group_id"]))
            topics = sorted(t for t in admin.list_topics() if scope.matches(t))
            if dry_run:
                result.deleted = [f"group {g}" for g in groups] + [f"topic {t}" for t in topics]
                return
            if groups:
                for group, outcome in admin.delete_groups(groups).items():
                    if str(outcome) in {"OK", "None"} or "GroupIdNotFound" in str(outcome):
                        result.deleted.append(f"group {group}")
                    else:
                        result.failed.append(f"group {group}: {outcome} — stop that notebook's consumers "
                                             "(restart its kernel), then reset again")
            if topics:
                admin.delete_topics(topics, raise_errors=False)
                remaining = set(admin.list_topics())
                for topic in topics:
                    if topic in remaining:
                        result.failed.append(f"topic {topic}: the broker did not delete it")
                    else:
                        result.deleted.append(f"topic {topic}")
        finally:
            admin.close()

    return _run("Kafka", job)


# --- PostgreSQL: schemas (event stores, read models) and tables (saga logs) ------------------------------------

def reset_postgres(scope: ResetScope, *, dry_run: bool, settings: Settings | None = None) -> ServiceReset:
    """Drop the course's schemas (``nbNN_…``) and its tables in ``public`` (``nbNN_…``)."""
    settings = settings or get_settings()

    def job(result: ServiceReset) -> None:
        import psycopg
        from psycopg import sql

        try:
            conn = psycopg.connect(settings.postgres_url, connect_timeout=max(1, int(settings.connect_timeout_s)),
                                   autocommit=True)
        except psycopg.OperationalError as exc:
            raise ServiceUnavailable(
                "PostgreSQL", redact(settings.postgres_url), str(exc).strip().splitlines()[0][:160],
                "start PostgreSQL (docker compose --profile postgres up -d) or set COURSE_POSTGRES_URL; "
                "only the PostgreSQL lessons need it",
            ) from exc
        with conn:
            schemas = [row[0] for row in conn.execute("SELECT nspname FROM pg_namespace ORDER BY nspname")
                       if scope.matches(row[0], sep="_")]
            tables = [row[0] for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
                if scope.matches(row[0], sep="_")]
            result.deleted = [f"schema {s}" for s in schemas] + [f"table public.{t}" for t in tables]
            if dry_run:
                return
            for schema in schemas:
                conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
            for table in tables:
                conn.execute(sql.SQL("DROP TABLE IF EXISTS public.{} CASCADE").format(sql.Identifier(table)))

    return _run("PostgreSQL", job)


# --- SQLite files: the notebooks' work folders and database files in the state folder -------------------------

def _owned_by_me(path: Path) -> bool:
    return not hasattr(os, "getuid") or path.stat().st_uid == os.getuid()


def reset_sqlite_files(scope: ResetScope, *, dry_run: bool, settings: Settings | None = None,
                       temp_dir: Path | None = None) -> ServiceReset:
    """Delete the notebooks' SQLite work folders (in ``temp_dir``) and database files in the state folder.

    The embedded broker's ``kafka-broker.pid`` and ``kafka-broker.log`` are never touched: only ``*.db`` /
    ``*.sqlite`` files (and their ``-wal``/``-shm``/``-journal`` companions) in the state folder are candidates,
    and only when no notebook filter narrows the reset.
    """
    settings = settings or get_settings()
    temp_root = Path(temp_dir) if temp_dir is not None else Path(tempfile.gettempdir())

    # Tests keep their files in pytest's own temporary folders: a ``t-…`` folder here is not ours to judge.
    notebooks_only = replace(scope, include_test_leftovers=False)

    def job(result: ServiceReset) -> None:
        targets: list[Path] = []
        if temp_root.is_dir():
            targets += sorted(p for p in temp_root.iterdir()
                              if p.is_dir() and not p.is_symlink() and _owned_by_me(p)
                              and (notebooks_only.matches(p.name) or notebooks_only.matches(p.name, prefix="course-")))
        state = settings.state_dir
        if state.is_dir() and not scope.notebooks and not scope.contains:
            targets += sorted(p for p in state.iterdir() if p.is_file() and _DATABASE_FILE.search(p.name))
        for path in targets:
            if not dry_run:
                try:
                    shutil.rmtree(path) if path.is_dir() else path.unlink()
                except OSError as exc:
                    result.failed.append(f"{path}: {exc.strerror or exc}")
                    continue
            result.deleted.append(str(path))

    return _run("SQLite files", job)


def reset(scope: ResetScope | None = None, *, dry_run: bool = False, services: Iterable[str] = SERVICES,
          settings: Settings | None = None, temp_dir: Path | None = None) -> ResetReport:
    """Reset the course's state on every service in ``services``; see the module docstring for what matches."""
    scope = scope or ResetScope()
    settings = settings or get_settings()
    wanted = set(services)
    unknown = wanted - set(SERVICES)
    if unknown:
        raise ValueError(f"unknown services {sorted(unknown)}: choose from {list(SERVICES)}")
    jobs: dict[str, Callable[[], ServiceReset]] = {
        "RabbitMQ": lambda: reset_rabbitmq(scope, dry_run=dry_run, settings=settings),
        "Kafka": lambda: reset_kafka(scope, dry_run=dry_run, settings=settings),
        "PostgreSQL": lambda: reset_postgres(scope, dry_run=dry_run, settings=settings),
        "SQLite files": lambda: reset_sqlite_files(scope, dry_run=dry_run, settings=settings, temp_dir=temp_dir),
    }
    return ResetReport([jobs[name]() for name in SERVICES if name in wanted], dry_run)
