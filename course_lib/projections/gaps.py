"""Gaps in the global log, and when a projector may step over one.

On PostgreSQL, positions come from a sequence when a transaction *inserts*, but become visible when it
*commits*. Transaction A takes position 10, transaction B takes 11, B commits first: a reader now sees 9, 11 — a
**gap** at 10. If the projector moved its checkpoint to 11, event 10 would be skipped forever when A commits.
A gap can also be permanent: a rolled-back transaction's sequence number is never reused.

So the projector stops at a gap and asks a ``GapPolicy`` whether it is *settled* (can no longer fill in). Only a
gap that was settled **before** a read, and is still missing in that read, is stepped over. A policy that knows
a whole range is settled says so with ``settled_through()``; the projector then steps over every gap in that range
in one read. SQLite and the in-memory store assign positions under their write lock, so their logs never have
gaps.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable
from typing import Any, Protocol

from course_lib import pg
from course_lib.errors import CourseError
from course_lib.eventstore.base import EventStore

Monotonic = Callable[[], float]

log = logging.getLogger("course_lib.projections")


class GapPolicy(Protocol):
    """Decides whether missing positions ``first..last`` can still appear."""

    def settled(self, first: int, last: int) -> bool:
        """True when no transaction can still commit an event into ``first..last``."""
        ...

    def forget_below(self, position: int) -> None:
        """Drop bookkeeping for gaps below ``position`` (they have been passed)."""
        ...


class WaitForGap:
    """Store-agnostic: a gap is settled once it has stayed a gap for ``grace`` seconds.

    Correct as long as no append transaction stays open longer than ``grace`` after taking its position.
    """

    def __init__(self, grace: float = 2.0, *, clock: Monotonic = time.monotonic) -> None:
        self.grace = grace
        self._clock = clock
        self._first_seen: dict[int, float] = {}

    def settled(self, first: int, last: int) -> bool:
        now = self._clock()
        seen = self._first_seen.setdefault(first, now)
        return now - seen >= self.grace

    def forget_below(self, position: int) -> None:
        self._first_seen = {p: t for p, t in self._first_seen.items() if p >= position}


# the advisory locks appends to one store hold (``eventstore/postgres.py``): class = the store, objid = the floor
_WRITER_LOCKS = (
    "l.locktype = 'advisory' AND l.objsubid = 2 AND l.classid = %s::bigint::oid"
    " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)
_OPEN_WRITERS = (
    "SELECT l.pid, a.state, extract(epoch FROM now() - a.xact_start), left(a.query, 80) "
    f"FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid WHERE {_WRITER_LOCKS} AND l.objid::bigint < %s "
    "ORDER BY l.objid"
)


def _connect(url: str) -> Any:
    """The policy's own connection; its short queries never wait long (a lock on the table, a busy server)."""
    return pg.connect(url, options="-c statement_timeout=10000")


class PostgresGapPolicy:
    """PostgreSQL: a gap is settled once no transaction that may hold one of its positions is still open.

    Every append announces itself before it takes a position: until its transaction ends it holds a shared
    advisory lock whose key names the store and a *floor*, the sequence's last value at that moment, so all its
    positions lie above the floor (``eventstore/postgres.py``). PostgreSQL releases the lock only after the
    transaction's commit or rollback is visible to new snapshots. One statement then finds the **horizon**: ``H``,
    the highest position in the statement's snapshot, and ``F``, the lowest floor among the writers holding the
    lock just after. A position ``p ≤ min(H, F)`` was taken before the snapshot, and its transaction no longer
    runs (if it did, it would hold a lock with a floor below ``p``). So a read made after that statement shows
    ``p`` if it committed; if ``p`` is still missing there, it rolled back and never appears. Every gap below the
    horizon is stepped over at once, however many writers are busy above it. Gaps above it wait, and are never
    stepped over while a writer that may hold them is open: a wait longer than ``alarm_after`` seconds sets
    ``alarm`` (naming the open transactions) and logs a warning, and the projector keeps waiting.

    Why not the transaction-id horizon (``pg_snapshot_xmin``): a transaction gets its id when it first writes a
    row, *after* the sequence handed it a position (a ``BEFORE INSERT`` trigger runs in between), and a snapshot
    lists only transactions older than the newest finished one. Either way an open writer can be missing from
    the snapshot, and its position would be stepped over.

    ``schema`` is the event store's schema; a projector binds the policy to its store when it is left out. Only
    appends made through ``PostgresEventStore`` announce themselves: another writer into the same table must do
    the same, or its gaps may be stepped over.
    """

    def __init__(self, url: str | None = None, *, schema: str | None = None, alarm_after: float = 30.0,
                 clock: Monotonic = time.monotonic, min_wait: float | None = None,
                 max_wait: float | None = None) -> None:
        if min_wait is not None or max_wait is not None:
            warnings.warn("PostgresGapPolicy: min_wait is no longer needed and max_wait is now alarm_after (a gap "
                          "whose writer may still commit is never stepped over); drop min_wait, rename max_wait",
                          DeprecationWarning, stacklevel=2)
            alarm_after = max_wait if max_wait is not None else alarm_after
        self.url = url
        self.schema = schema
        self.alarm_after = alarm_after
        self._clock = clock
        self._conn: Any = _connect(url) if url is not None else None
        self._horizon_sql: Any = None
        self._writer_class = 0
        self._through = 0
        self._first_seen: dict[int, float] = {}
        self._alarm: tuple[int, str] | None = None

    # ------------------------------------------------------------------------------------------- binding

    def bind(self, store: EventStore) -> None:
        """Follow ``store``'s log (a ``Projector`` calls this); refuses a store in another schema or database."""
        from course_lib.eventstore.postgres import PostgresEventStore, writer_lock_class

        if not isinstance(store, PostgresEventStore):
            raise CourseError(f"PostgresGapPolicy follows a PostgresEventStore, not {type(store).__name__}; "
                              "use WaitForGap() (or no gap_policy) for other stores")
        if self.schema is not None and self.schema != store.schema:
            raise CourseError(f"this PostgresGapPolicy follows schema {self.schema!r}, but the projector reads "
                              f"{store.schema!r}: create it with schema={store.schema!r} (or leave schema out)")
        if self._conn is None:
            self.url = store.url
            self._conn = _connect(store.url)
        found = self._conn.execute("SELECT to_regclass(format('%%I.events', %s::text))", (store.schema,)).fetchone()
        if found[0] is None:
            raise CourseError(f"PostgresGapPolicy cannot see {store.schema}.events through its own connection: "
                              "give it the event store's URL (or leave the URL out and let the projector bind it)")
        self.schema = store.schema
        self._writer_class = writer_lock_class(store.schema) & 0xFFFFFFFF  # pg_locks shows the key as an oid
        from psycopg import sql

        # H (the snapshot's highest position) is read when the statement starts, the locks after: see the docstring
        self._horizon_sql = sql.SQL(
            "SELECT (SELECT coalesce(max(position), 0) FROM {}.events), "
            f"(SELECT min(l.objid::bigint) FROM pg_locks l WHERE {_WRITER_LOCKS})"
        ).format(sql.Identifier(store.schema))

    # -------------------------------------------------------------------------------------- the question

    def settled_through(self) -> int:
        """Every position up to this one that a read *after this call* does not show will never appear."""
        return self._through

    def settled(self, first: int, last: int) -> bool:
        """Ask the database for the horizon now; True when ``first..last`` lies below it."""
        if last <= self._refresh():
            self._first_seen.pop(first, None)
            return True
        now = self._clock()
        waited = now - self._first_seen.setdefault(first, now)
        if waited >= self.alarm_after and (self._alarm is None or self._alarm[0] != first):
            self._raise_alarm(first, last, waited)
        return False

    def _refresh(self) -> int:
        if self._conn is None or self._horizon_sql is None:
            raise CourseError("PostgresGapPolicy is not bound to an event store: pass it to a Projector "
                              "(gap_policy=...) or call policy.bind(store)")
        head, floor = self._conn.execute(self._horizon_sql, (self._writer_class,)).fetchone()
        horizon = int(head) if floor is None else min(int(head), int(floor))
        if head < self._through:  # the log was dropped and created again: start from what it holds now
            self._through = 0
        self._through = max(self._through, horizon)
        return self._through

    # ------------------------------------------------------------------------------------------- alarms

    @property
    def alarm(self) -> str | None:
        """Why the projector has waited longer than ``alarm_after`` at a gap (``None`` when it has not)."""
        return self._alarm[1] if self._alarm else None

    def _raise_alarm(self, first: int, last: int, waited: float) -> None:
        rows = self._conn.execute(_OPEN_WRITERS, (self._writer_class, last)).fetchall()
        holders = "; ".join(f"pid {pid} ({state or 'state unknown'}, open {age or 0:.0f} s, last query {query!r})"
                            for pid, state, age, query in rows) or "none any more (it is about to settle)"
        span = f"{first}" if first == last else f"{first}..{last}"
        message = (f"projection waits at position {span} of {self.schema}.events for {waited:.0f} s: a transaction "
                   f"that may still commit it is open — {holders}. The projector never steps over a position whose "
                   "writer is still open. Commit or roll back that transaction (or end it: "
                   "SELECT pg_terminate_backend(pid)).")
        self._alarm = (first, message)
        log.warning("%s", message)

    def forget_below(self, position: int) -> None:
        self._first_seen = {p: t for p, t in self._first_seen.items() if p >= position}
        if self._alarm is not None and self._alarm[0] <= position:
            self._alarm = None

    def close(self) -> None:
        """Close the policy's connection."""
        if self._conn is not None:
            self._conn.close()
