"""Injectable clocks and id factories, so notebooks and tests are deterministic where they are checked."""

from __future__ import annotations

import itertools
import os
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]
IdFactory = Callable[[], uuid.UUID]


def system_clock() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


class FixedStepClock:
    """A clock that starts at ``start`` and moves by ``step`` each time it is read."""

    def __init__(self, start: datetime | None = None, step: timedelta = timedelta(seconds=1)) -> None:
        self.now = start or datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
        self.step = step

    def __call__(self) -> datetime:
        current = self.now
        self.now = current + self.step
        return current

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward without reading it."""
        self.now += delta


class SequentialIds:
    """UUIDs 00000000-0000-0000-0000-000000000001, …2, … — readable and repeatable."""

    def __init__(self, start: int = 1) -> None:
        self._counter = itertools.count(start)

    def __call__(self) -> uuid.UUID:
        return uuid.UUID(int=next(self._counter))


def random_ids() -> uuid.UUID:
    """A new id (the default id factory): a time-ordered UUID, see ``time_ordered_ids``."""
    return time_ordered_ids()


def time_ordered_ids() -> uuid.UUID:
    """A UUID version 7 (RFC 9562): the Unix time in milliseconds, then 74 random bits.

    Ids made later sort later, so a database index on them (the event store's unique message ids) grows at its
    end instead of being rewritten at random places: a batch of appends touches a few index pages, not one per
    event. The 74 random bits keep ids unguessable and unique across processes.
    """
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")  # 80 bits; 12 + 62 are used
    value = ((millis & 0xFFFF_FFFF_FFFF) << 80 | 0x7 << 76 | (rand >> 68) << 64
             | 0b10 << 62 | rand & 0x3FFF_FFFF_FFFF_FFFF)
    return uuid.UUID(int=value)
