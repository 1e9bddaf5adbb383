"""The transactional outbox: events and "to be published" rows committed in **one** database transaction.

The dual write — commit to the database, then publish to the broker — loses the event whenever the process dies
between the two (or publishes an event whose transaction then rolls back). The outbox turns it into one local
write: the event store's ``append(..., in_transaction=outbox.hook)`` inserts the outbox rows inside the append's
transaction, and a separate relay publishes them afterwards (``course_lib.outbox.relay``).

Rows are published in ``id`` order, which is commit order for SQLite (one writer at a time) and, for PostgreSQL,
preserves the order within a stream because a stream's appends are serialised by its version check.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from course_lib.messages import Envelope, Message, from_json, to_json
from course_lib.sql import Database, Tx, check_identifier


@dataclass(frozen=True)
class OutboxRow:
    """One event waiting for (or done with) publication."""

    id: int
    message_id: str
    stream_id: str
    type: str
    body: str
    attempts: int

    def envelope(self) -> Envelope[Message]:
        """The stored envelope."""
        return from_json(self.body)


@dataclass(frozen=True)
class OutboxCounts:
    """How many rows were written, published, and are still waiting."""

    written: int
    sent: int

    @property
    def pending(self) -> int:
        return self.written - self.sent


class _Outbox:
    """The outbox's SQL, written once for both databases (``course_lib.sql``)."""

    table: str
    db: Database

    def write(self, conn: Any, envelopes: Sequence[Envelope[Any]]) -> None:
        """Insert outbox rows using the caller's connection, inside the caller's open transaction."""
        rows = [(str(e.message_id), e.metadata.stream_id or "", e.type, to_json(e)) for e in envelopes]
        Tx(conn, self.db.dialect).executemany(
            f"INSERT INTO {self.table} (message_id, stream_id, type, body) VALUES (?,?,?,?) "
            "ON CONFLICT (message_id) DO NOTHING", rows)

    def hook(self, conn: Any, envelopes: list[Envelope[Message]]) -> None:
        """The event store's ``in_transaction`` callable: ``store.append(s, evs, v, in_transaction=outbox.hook)``."""
        self.write(conn, envelopes)

    def pending(self, limit: int = 100) -> list[OutboxRow]:
        """The oldest unsent rows, in commit order."""
        rows = self.db.execute(f"SELECT id, message_id, stream_id, type, body, attempts FROM {self.table} "
                               "WHERE sent_at IS NULL ORDER BY id LIMIT ?", (limit,))
        return [OutboxRow(*r) for r in rows]

    def mark_attempt(self, row_id: int) -> None:
        """Count a publish attempt (so a row that keeps failing is visible)."""
        self.db.execute(f"UPDATE {self.table} SET attempts = attempts + 1 WHERE id = ?", (row_id,))

    def mark_sent(self, row_ids: Sequence[int]) -> None:
        """Record that the broker confirmed these rows."""
        ids = list(row_ids)
        if ids:
            self.db.execute(f"UPDATE {self.table} SET sent_at = CURRENT_TIMESTAMP "
                            f"WHERE id IN ({','.join('?' * len(ids))}) AND sent_at IS NULL", ids)

    def message_ids(self) -> set[str]:
        """The message id of every row ever written (sent or not)."""
        return {r[0] for r in self.db.execute(f"SELECT message_id FROM {self.table}")}

    def counts(self) -> OutboxCounts:
        """Written and sent totals."""
        written, sent = self.db.execute(f"SELECT count(*), count(sent_at) FROM {self.table}")[0]
        return OutboxCounts(int(written), int(sent))

    def close(self) -> None:
        self.db.close()


class SQLiteOutbox(_Outbox):
    """The outbox table in a SQLite file — the same file as the event store, so they share transactions."""

    def __init__(self, path: str | Path, table: str = "outbox") -> None:
        self.path = str(path)
        self.table = check_identifier(table)
        self.db = Database.sqlite(self.path)
        self.db.execute(
            f"CREATE TABLE IF NOT EXISTS {self.table} (id INTEGER PRIMARY KEY AUTOINCREMENT, "
            "message_id TEXT NOT NULL UNIQUE, stream_id TEXT NOT NULL, type TEXT NOT NULL, body TEXT NOT NULL, "
            "attempts INTEGER NOT NULL DEFAULT 0, sent_at TEXT)"
        )
        self.db.execute(
            f"CREATE INDEX IF NOT EXISTS {self.table}_pending ON {self.table} (id) WHERE sent_at IS NULL")


class PostgresOutbox(_Outbox):
    """The outbox table in PostgreSQL (psycopg 3). Its own connection is used by the relay only."""

    def __init__(self, url: str, table: str = "outbox") -> None:
        self.url = url
        self.table = check_identifier(table)
        self.db = Database.postgres(url)
        self.db.execute(
            f"CREATE TABLE IF NOT EXISTS {self.table} (id BIGSERIAL PRIMARY KEY, message_id TEXT NOT NULL UNIQUE, "
            "stream_id TEXT NOT NULL, type TEXT NOT NULL, body TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, "
            "sent_at TIMESTAMPTZ)"
        )

    def drop(self) -> None:
        """Delete the table (tests and notebooks clean up)."""
        self.db.execute(f"DROP TABLE IF EXISTS {self.table}")
