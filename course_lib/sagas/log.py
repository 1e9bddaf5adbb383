"""The saga log: an append-only record of what the orchestrator did, persisted after every step.

The state of a saga is a *fold* of its log entries, the same idea as an event-sourced aggregate. A process that
dies mid-saga is replaced by one that reads the log and carries on: steps that succeeded are not run again, and
compensations that were due are not skipped. Backends: SQLite (the embedded default) and PostgreSQL.

Entry kinds, in the order they can appear::

    saga_started · step_started · attempt_failed · step_succeeded · step_failed ·
    compensation_started · compensation_failed · compensation_succeeded ·
    saga_completed · saga_compensated · needs_attention
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from course_lib.errors import CourseError
from course_lib.sql import Database, check_identifier, is_unique_violation

SagaStatus = Literal["running", "compensating", "completed", "compensated", "needs_attention"]
TERMINAL: frozenset[str] = frozenset({"completed", "compensated", "needs_attention"})


class UnknownSaga(CourseError):
    """The log has no saga with this id."""


@dataclass(frozen=True)
class LogEntry:
    """One line of the saga log."""

    saga_id: str
    seq: int
    saga_name: str
    kind: str
    step: str | None = None
    attempt: int = 0
    detail: str = ""
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class SagaState:
    """What the log says about one saga."""

    saga_id: str
    saga_name: str
    status: SagaStatus = "running"
    data: dict[str, Any] = field(default_factory=dict)
    completed: list[str] = field(default_factory=list)
    failed_step: str | None = None
    compensated: list[str] = field(default_factory=list)
    error: str = ""
    attempts: dict[str, int] = field(default_factory=dict)
    entries: list[LogEntry] = field(default_factory=list)

    @property
    def last_seq(self) -> int:
        return self.entries[-1].seq if self.entries else 0

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL

    def path(self) -> list[tuple[str, str]]:
        """The run's path as (step, outcome) pairs: succeeded, failed, compensated, compensation_failed."""
        out: list[tuple[str, str]] = []
        for e in self.entries:
            if e.kind in {"step_succeeded", "step_failed", "compensation_succeeded"} and e.step:
                out.append((e.step, {"step_succeeded": "succeeded", "step_failed": "failed",
                                     "compensation_succeeded": "compensated"}[e.kind]))
            elif e.kind == "needs_attention" and e.step:
                out.append((e.step, "compensation_failed"))
        return out


def fold(entries: list[LogEntry]) -> SagaState:
    """Rebuild a saga's state from its entries (in seq order)."""
    if not entries:
        raise UnknownSaga("no entries")
    state = SagaState(entries[0].saga_id, entries[0].saga_name)
    for e in entries:
        state.entries.append(e)
        if e.kind == "saga_started":
            state.data = dict(e.data)
        elif e.kind == "step_started" and e.step:
            state.attempts[e.step] = e.attempt
        elif e.kind == "step_succeeded" and e.step:
            state.completed.append(e.step)
            state.data.update(e.data)
        elif e.kind == "step_failed":
            state.status, state.failed_step, state.error = "compensating", e.step, e.detail
        elif e.kind == "compensation_succeeded" and e.step:
            state.compensated.append(e.step)
        elif e.kind == "saga_completed":
            state.status = "completed"
        elif e.kind == "saga_compensated":
            state.status = "compensated"
        elif e.kind == "needs_attention":
            state.status, state.error = "needs_attention", e.detail
        elif e.kind == "attention_cleared":
            state.status = "compensating"
    return state


class SagaLog(Protocol):
    """Where saga entries are kept. ``append`` is durable when it returns."""

    def append(self, entry: LogEntry) -> None:
        """Store one entry; a duplicate (saga_id, seq) is an error (two orchestrators on one saga)."""
        ...

    def entries(self, saga_id: str) -> list[LogEntry]:
        """A saga's entries in seq order (empty when unknown)."""
        ...

    def saga_ids(self) -> list[str]:
        """Every saga in the log, oldest first."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...


class ConcurrentSagaWriter(CourseError):
    """Two orchestrators wrote the same saga at the same time."""


def load(log: SagaLog, saga_id: str) -> SagaState:
    """The state of one saga; ``UnknownSaga`` names the fix when there is none."""
    entries = log.entries(saga_id)
    if not entries:
        raise UnknownSaga(f"the saga log has no saga {saga_id!r}; start it with Orchestrator.start({saga_id!r}, …)")
    return fold(entries)


def unfinished(log: SagaLog) -> list[str]:
    """Sagas that are neither completed, compensated, nor waiting for a person — the ones to resume."""
    return [sid for sid in log.saga_ids() if not fold(log.entries(sid)).is_terminal]


def _row(entry: LogEntry) -> tuple[Any, ...]:
    return (entry.saga_id, entry.seq, entry.saga_name, entry.kind, entry.step, entry.attempt, entry.detail,
            json.dumps(entry.data, sort_keys=True))


def _entry(row: Any) -> LogEntry:
    return LogEntry(row[0], int(row[1]), row[2], row[3], row[4], int(row[5]), row[6], json.loads(row[7]))


_COLUMNS = "saga_id, seq, saga_name, kind, step, attempt, detail, data"


class _SqlSagaLog:
    """The saga log's SQL, written once for both databases (``course_lib.sql``)."""

    table: str
    db: Database
    _read_columns = _COLUMNS
    _creation_order = "rowid"

    def append(self, entry: LogEntry) -> None:
        """Store one entry durably (its own committed transaction)."""
        try:
            self.db.execute(f"INSERT INTO {self.table} ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?)", _row(entry))
        except Exception as exc:
            if not is_unique_violation(exc):
                raise
            raise ConcurrentSagaWriter(
                f"saga {entry.saga_id!r} already has entry {entry.seq}: another orchestrator is running it. "
                "Run each saga in one orchestrator at a time."
            ) from exc

    def entries(self, saga_id: str) -> list[LogEntry]:
        rows = self.db.execute(
            f"SELECT {self._read_columns} FROM {self.table} WHERE saga_id = ? ORDER BY seq", (saga_id,))
        return [_entry(r) for r in rows]

    def saga_ids(self) -> list[str]:
        rows = self.db.execute(f"SELECT saga_id FROM {self.table} WHERE seq = 1 ORDER BY {self._creation_order}")
        return [r[0] for r in rows]

    def close(self) -> None:
        self.db.close()


class SQLiteSagaLog(_SqlSagaLog):
    """The saga log in a SQLite file (WAL, one short transaction per entry)."""

    def __init__(self, path: str | Path, table: str = "saga_log", *, synchronous: str = "FULL") -> None:
        self.path = str(path)
        self.table = check_identifier(table)
        # FULL by default: the log's whole point is surviving a crash (NORMAL survives a process crash, not a power cut)
        self.db = Database.sqlite(self.path, synchronous=synchronous)
        self.db.execute(
            f"CREATE TABLE IF NOT EXISTS {table} (saga_id TEXT NOT NULL, seq INTEGER NOT NULL, "
            "saga_name TEXT NOT NULL, kind TEXT NOT NULL, step TEXT, attempt INTEGER NOT NULL, "
            "detail TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (saga_id, seq))"
        )


class PostgresSagaLog(_SqlSagaLog):
    """The saga log in PostgreSQL (psycopg 3, autocommit: each entry is its own committed transaction)."""

    _read_columns = "saga_id, seq, saga_name, kind, step, attempt, detail, data::text"
    _creation_order = "id"

    def __init__(self, url: str, table: str = "saga_log") -> None:
        self.url = url
        self.table = check_identifier(table)
        self.db = Database.postgres(url)
        self.db.execute(
            f"CREATE TABLE IF NOT EXISTS {table} (id BIGSERIAL, saga_id TEXT NOT NULL, seq INTEGER NOT NULL, "
            "saga_name TEXT NOT NULL, kind TEXT NOT NULL, step TEXT, attempt INTEGER NOT NULL, "
            "detail TEXT NOT NULL, data JSONB NOT NULL, PRIMARY KEY (saga_id, seq))"
        )

    def drop(self) -> None:
        """Delete the table (tests and notebooks clean up after themselves)."""
        self.db.execute(f"DROP TABLE IF EXISTS {self.table}")


@contextmanager
def open_log(url: str, table: str = "saga_log") -> Iterator[SagaLog]:
    """A saga log for ``sqlite:///path`` or ``postgresql://…``; closed on exit."""
    log: SQLiteSagaLog | PostgresSagaLog
    if url.startswith("sqlite:///"):
        log = SQLiteSagaLog(url.removeprefix("sqlite:///") or ":memory:", table)
    elif url.startswith(("postgresql://", "postgres://")):
        log = PostgresSagaLog(url, table)
    else:
        raise ValueError(f"saga log URL must be sqlite:///path or postgresql://…, got {url!r}")
    try:
        yield log
    finally:
        log.close()
