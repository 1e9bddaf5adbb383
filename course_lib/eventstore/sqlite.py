"""The SQLite event store: the course's embedded default, one file, safe across threads and processes.

How it keeps its promises:
- **One writer at a time.** Every append runs in ``BEGIN IMMEDIATE``, which takes SQLite's write lock before
  reading the stream's version, so the version check and the insert cannot interleave with another writer
  (another thread, another store object, or another process). Waiting writers queue on ``busy_timeout``.
- **Gap-free global positions in commit order.** Under that lock the next position is ``max(position) + 1``;
  a rolled-back append takes nothing, so positions are 1, 2, 3 … exactly as transactions committed.
- **Durability**: WAL journal mode; ``synchronous`` is ``FULL`` by default (every commit is on disk before
  ``append`` returns). ``NORMAL`` is faster and survives an application crash, but a power cut may lose the
  last commits.
- ``UNIQUE(stream_id, version)`` and ``UNIQUE(message_id)`` back the rules up at the database level.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from course_lib import sql
from course_lib.clock import Clock, IdFactory, random_ids, system_clock
from course_lib.eventstore.base import (
    ANY,
    AppendResult,
    CannotOpenStore,
    ConcurrencyError,
    ExpectedVersion,
    InTransaction,
    Snapshot,
    check_expected_version,
    validate_expected_version,
)
from course_lib.eventstore.decoding import RowDecoder
from course_lib.eventstore.encoding import EncodedRow, encode_batch
from course_lib.eventstore.records import check_stream_id, snapshot_from_row, snapshot_text, stored
from course_lib.messages import Envelope, Message, Registry, registry

Synchronous = Literal["OFF", "NORMAL", "FULL", "EXTRA"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    position   INTEGER PRIMARY KEY,
    stream_id  TEXT    NOT NULL,
    version    INTEGER NOT NULL,
    message_id BLOB    NOT NULL UNIQUE,
    type       TEXT    NOT NULL,
    metadata   TEXT    NOT NULL,
    data       TEXT    NOT NULL,
    UNIQUE (stream_id, version)
);
CREATE TABLE IF NOT EXISTS snapshots (
    stream_id TEXT PRIMARY KEY,
    version   INTEGER NOT NULL,
    type      TEXT    NOT NULL,
    state     TEXT    NOT NULL
);
"""

_COLUMNS = "stream_id, version, position, type, metadata, data"
# the stream's version and the log's last position, in one statement
_HEADS = ("SELECT (SELECT coalesce(max(version), 0) FROM events WHERE stream_id = ?), "
          "(SELECT coalesce(max(position), 0) FROM events)")
PAGE_SIZE = 2048
"""Bytes per page of a new store file (SQLite's default is 4,096). A commit writes every page it changed to the WAL
whole, and an append changes the last, partly filled page of the table and of both indexes: smaller pages write
less of what did not change (a 100-event append: 49 KiB against 70 KiB, and about 7 % less commit time)."""
_ROWS_PER_INSERT = 100  # 700 parameters: under the 999 that SQLite builds before 3.32 allow per statement
_SMALL_BATCH = 16  # up to this many rows go in as one statement of their own size


def _statement_sizes(rows: int) -> list[int]:
    """How many rows each INSERT of an append takes: up to 16 in one, more 100 at a time, and what is left in
    64s, 32s and 16s, then the last few in one (99 = 64+32+3).

    A batch goes in as a few multi-row statements, which costs SQLite about 40 % less than one statement per row
    through ``executemany`` (measured on 100-event batches), and the small batches an aggregate saves go in as one.
    Only 19 statement texts exist, so they all stay in the connection's statement cache whatever the batch sizes;
    a text per size would each be compiled anew once the sizes outnumbered the cache (about 90 µs for a 100-row
    statement).
    """
    sizes = [_ROWS_PER_INSERT] * (rows // _ROWS_PER_INSERT)
    rest = rows % _ROWS_PER_INSERT
    for size in (64, 32, 16):
        if rest > _SMALL_BATCH and rest >= size:
            sizes.append(size)
            rest -= size
    if rest:
        sizes.append(rest)
    return sizes


@lru_cache(maxsize=32)
def _insert(rows: int) -> str:
    """One INSERT of ``rows`` rows."""
    return ("INSERT INTO events (position, stream_id, version, message_id, type, metadata, data) VALUES "
            + ",".join(["(?,?,?,?,?,?,?)"] * rows))


class SQLiteEventStore:
    """An event store in one SQLite file (``":memory:"`` works too, for one connection)."""

    def __init__(
        self,
        path: str | Path,
        *,
        registry: Registry = registry,
        clock: Clock = system_clock,
        ids: IdFactory = random_ids,
        synchronous: Synchronous = "FULL",
        busy_timeout: float = 30.0,
    ) -> None:
        if synchronous not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise ValueError(f"synchronous must be OFF, NORMAL, FULL or EXTRA, got {synchronous!r}")
        self.path = str(path)
        self._registry = registry
        self._decoder = RowDecoder(registry)
        self._clock = clock
        self._ids = ids
        self._lock = threading.RLock()
        self._conn = _open(self.path, busy_timeout)
        try:
            # autocommit mode: we issue BEGIN IMMEDIATE / COMMIT ourselves
            self.journal_mode = str(self._conn.execute("PRAGMA journal_mode").fetchone()[0]).upper()
            self._conn.execute(f"PRAGMA synchronous={synchronous}")
            self.synchronous = synchronous
            self._create_schema()
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            raise _cannot_open(self.path, exc) from None

    def _create_schema(self) -> None:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")  # several processes may create the file at once
            try:
                for statement in SCHEMA.split(";"):
                    if statement.strip():
                        self._conn.execute(statement)
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    @property
    def connection(self) -> sqlite3.Connection:
        """The store's own connection (for inspection in lessons; writes belong in ``append``)."""
        return self._conn

    def append(
        self,
        stream_id: str,
        events: Sequence[Envelope[Any] | Message],
        expected_version: ExpectedVersion = ANY,
        *,
        in_transaction: InTransaction | None = None,
    ) -> AppendResult:
        """Append atomically in one transaction; see ``base.InTransaction`` for ``in_transaction``.

        ``ConcurrencyError`` on a stale expected version. Events whose ids are already stored are skipped; when
        all of them are (a retry after a lost reply), nothing is written, no error is raised, and
        ``in_transaction`` is not called.
        """
        check_stream_id(stream_id)
        expected = validate_expected_version(expected_version)
        # checked and serialised before taking the write lock
        batch, rows = encode_batch(stream_id, events, registry=self._registry, clock=self._clock, ids=self._ids)
        conn = self._conn
        with self._lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = self._append_locked(stream_id, batch, rows, expected, in_transaction)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:  # not when restarting after a duplicate id failed to take the lock again
                    conn.execute("ROLLBACK")
                raise
        return result

    def _append_locked(
        self,
        stream_id: str,
        batch: list[Envelope[Message]],
        rows: list[EncodedRow],
        expected: ExpectedVersion,
        in_transaction: InTransaction | None,
        *,
        duplicates_removed: bool = False,
    ) -> AppendResult:
        conn = self._conn
        version, position = conn.execute(_HEADS, (stream_id,)).fetchone()
        try:
            check_expected_version(stream_id, expected, version)
        except ConcurrencyError:
            if rows and not duplicates_removed:  # maybe a retry of an append that already happened
                return self._append_with_duplicates(stream_id, batch, rows, expected, in_transaction)
            raise
        if not rows:
            last = conn.execute("SELECT max(position) FROM events WHERE stream_id = ?", (stream_id,)).fetchone()[0]
            return AppendResult(stream_id, version, last or 0)
        try:
            start = 0
            for size in _statement_sizes(len(rows)):
                params: list[Any] = []
                for i, (message_id, type_name, metadata, data) in enumerate(rows[start:start + size], start=start + 1):
                    params += (position + i, stream_id, version + i, message_id.bytes, type_name, metadata, data)
                conn.execute(_insert(size), params)
                start += size
        except sqlite3.IntegrityError:
            # Some ids are stored already (a retried append). Checking first on every append would cost a query;
            # duplicates are rare, so only they pay: the rows inserted before the clash are undone by rolling the
            # whole transaction back (nothing else has been written in it yet: a savepoint around every insert
            # would cost two statements per append), and the append starts again on the careful path.
            if duplicates_removed:
                raise
            conn.execute("ROLLBACK")
            conn.execute("BEGIN IMMEDIATE")
            return self._append_with_duplicates(stream_id, batch, rows, expected, in_transaction)
        if in_transaction is not None:
            in_transaction(conn, [
                stored(env, stream_id, version + i, position + i) for i, env in enumerate(batch, start=1)
            ])
        return AppendResult(stream_id, version + len(rows), position + len(rows))

    def _append_with_duplicates(
        self,
        stream_id: str,
        batch: list[Envelope[Message]],
        rows: list[EncodedRow],
        expected: ExpectedVersion,
        in_transaction: InTransaction | None,
    ) -> AppendResult:
        conn = self._conn
        ids = [row[0].bytes for row in rows]
        found = dict(conn.execute(
            f"SELECT message_id, position FROM events WHERE message_id IN ({','.join('?' * len(ids))})", ids
        ).fetchall())
        if len(found) == len(ids):  # the whole append is already stored: a retry after a lost reply
            return AppendResult(stream_id, self._version(stream_id), found[ids[-1]])
        fresh = [(env, row) for env, row in zip(batch, rows, strict=True) if row[0].bytes not in found]
        return self._append_locked(stream_id, [env for env, _ in fresh], [row for _, row in fresh], expected,
                                   in_transaction, duplicates_removed=True)

    def _version(self, stream_id: str) -> int:
        row = self._conn.execute("SELECT max(version) FROM events WHERE stream_id = ?", (stream_id,)).fetchone()
        return int(row[0] or 0)

    def _stream_rows(self, stream_id: str, from_version: int, limit: int | None) -> list[Any]:
        with self._lock:
            return self._conn.execute(
                f"SELECT {_COLUMNS} FROM events WHERE stream_id = ? AND version >= ? ORDER BY version LIMIT ?",
                (stream_id, from_version, -1 if limit is None else limit),
            ).fetchall()

    def read_stream(self, stream_id: str, from_version: int = 1, limit: int | None = None) -> list[Envelope[Message]]:
        """Events of one stream from ``from_version``, in version order."""
        return self._decoder.envelopes(self._stream_rows(stream_id, from_version, limit))

    def read_messages(self, stream_id: str, from_version: int = 1, limit: int | None = None) -> list[Message]:
        """Only the messages of ``read_stream`` (what rehydrating an aggregate needs), validated the same way."""
        return self._decoder.messages(self._stream_rows(stream_id, from_version, limit))

    def read_all(self, from_position: int = 1, limit: int = 1000) -> list[Envelope[Message]]:
        """One page of all events in global order, from ``from_position`` (inclusive)."""
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {_COLUMNS} FROM events WHERE position >= ? ORDER BY position LIMIT ?",
                (from_position, limit),
            ).fetchall()
        return self._decoder.envelopes(rows)

    def last_position(self) -> int:
        """The highest global position (0 when empty)."""
        with self._lock:
            return int(self._conn.execute("SELECT coalesce(max(position), 0) FROM events").fetchone()[0])

    def stream_version(self, stream_id: str) -> int:
        """The stream's current version (0 when it does not exist)."""
        with self._lock:
            return self._version(stream_id)

    def stream_ids(self) -> list[str]:
        """Every stream id, in order of first appearance."""
        with self._lock:
            rows = self._conn.execute("SELECT stream_id FROM events WHERE version = 1 ORDER BY position").fetchall()
        return [row[0] for row in rows]

    def save_snapshot(self, snapshot: Snapshot) -> None:
        """Keep the snapshot beside the stream; an older one is replaced, a newer one is kept."""
        with self._lock:
            self._conn.execute(
                "INSERT INTO snapshots (stream_id, version, type, state) VALUES (?,?,?,?) "
                "ON CONFLICT (stream_id) DO UPDATE SET version = excluded.version, type = excluded.type, "
                "state = excluded.state WHERE excluded.version >= snapshots.version",
                (snapshot.stream_id, snapshot.version, snapshot.type, snapshot_text(snapshot)),
            )

    def load_snapshot(self, stream_id: str) -> Snapshot | None:
        """The newest snapshot of the stream, if any."""
        with self._lock:
            row = self._conn.execute(
                "SELECT version, type, state FROM snapshots WHERE stream_id = ?", (stream_id,)
            ).fetchone()
        if row is None:
            return None
        return snapshot_from_row(stream_id, *row)

    def close(self) -> None:
        """Close the connection (safe to call twice)."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> SQLiteEventStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SQLiteEventStore({self.path!r}, journal_mode={self.journal_mode}, synchronous={self.synchronous})"


def _open(path: str, busy_timeout: float) -> sqlite3.Connection:
    """A connection to the store's file, or ``CannotOpenStore`` naming the path and what to do."""
    if path != ":memory:" and not path.startswith("file:") and Path(path).is_dir():
        raise CannotOpenStore(path, "it is a directory",
                              f"name a database file inside it, e.g. sqlite:///{Path(path) / 'events.db'}")
    try:
        return sql.connect_sqlite(path, timeout=busy_timeout, page_size=PAGE_SIZE, cached_statements=64)
    except (OSError, sqlite3.DatabaseError) as exc:
        raise _cannot_open(path, exc) from None


def _cannot_open(path: str, exc: Exception) -> CannotOpenStore:
    reason = str(exc) or type(exc).__name__
    if "not a database" in reason:
        fix = "that file is not an SQLite database: point the URL at an event store file, or at a new path"
    else:
        fix = ("check that the folder exists (or can be created) and is writable, or choose another path, "
               "e.g. sqlite:///events.db")
    return CannotOpenStore(path, reason, fix)

