"""Injectable clocks and id factories, so notebooks and tests are deterministic where they are checked."""

from __future__ import annotations

import itertools
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
    """A random UUID4 (the default id factory)."""
    return uuid.uuid4()
