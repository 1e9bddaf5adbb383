"""Gaps in the global log, and when a projector may step over one.

On PostgreSQL, positions come from a sequence when a transaction *inserts*, but become visible when it
*commits*. Transaction A takes position 10, transaction B takes 11, B commits first: a reader now sees 9, 11 — a
**gap** at 10. If the projector moved its checkpoint to 11, event 10 would be skipped forever when A commits.
A gap can also be permanent: a rolled-back transaction's sequence number is never reused.

So the projector stops at a gap and asks a ``GapPolicy`` whether it is *settled* (can no longer fill in). Only a
gap that was settled **before** a fresh read, and is still missing in that read, is stepped over. SQLite and the
in-memory store assign positions under their write lock, so their logs never have gaps.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

from course_lib import pg

Monotonic = Callable[[], float]


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


class PostgresGapPolicy:
    """PostgreSQL: a gap is settled once every transaction that was running when it was first seen has ended.

    When the gap is first seen we record ``pg_current_snapshot()``: its in-progress list contains the
    transaction that holds the missing position (it inserted, so it has a transaction id, and it had not
    committed when we read). Once none of those transactions is ``in progress`` (``pg_xact_status``), the gap
    either filled or never will. ``min_wait`` covers the instant between taking a sequence value and the insert
    that assigns the transaction id; ``max_wait`` bounds the wait if a long, unrelated transaction stays open.
    """

    def __init__(self, url: str, *, min_wait: float = 0.05, max_wait: float = 30.0,
                 clock: Monotonic = time.monotonic) -> None:

        self.url = url
        self.min_wait = min_wait
        self.max_wait = max_wait
        self._clock = clock
        self._conn: Any = pg.connect(url)
        self._first_seen: dict[int, tuple[float, str]] = {}

    def settled(self, first: int, last: int) -> bool:
        now = self._clock()
        if first not in self._first_seen:
            snapshot = self._conn.execute("SELECT pg_current_snapshot()::text").fetchone()[0]
            self._first_seen[first] = (now, snapshot)
        seen, snapshot = self._first_seen[first]
        waited = now - seen
        if waited >= self.max_wait:
            return True
        if waited < self.min_wait:
            return False
        running = self._conn.execute(
            "SELECT count(*) FROM pg_snapshot_xip(%s::pg_snapshot) AS x(xid) "
            "WHERE pg_xact_status(x.xid) = 'in progress'",
            (snapshot,),
        ).fetchone()[0]
        return bool(running == 0)

    def forget_below(self, position: int) -> None:
        self._first_seen = {p: v for p, v in self._first_seen.items() if p >= position}

    def close(self) -> None:
        """Close the policy's connection."""
        self._conn.close()
