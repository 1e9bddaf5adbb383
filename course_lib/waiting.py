"""Wait on a condition with a timeout — the course's only way to synchronise (never a bare sleep)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class WaitTimeout(TimeoutError):
    """The condition did not come true in time. The message says what was awaited and the last value seen."""


def wait_until(
    condition: Callable[[], T],
    *,
    timeout: float = 10.0,
    interval: float = 0.05,
    what: str = "condition",
) -> T:
    """Call ``condition`` until it returns something truthy; return that value, or raise ``WaitTimeout``."""
    deadline = time.monotonic() + timeout
    last: T = condition()
    while not last:
        if time.monotonic() >= deadline:
            raise WaitTimeout(f"waited {timeout:.1f}s for {what}; last value: {last!r}")
        time.sleep(interval)  # polling interval between checks of the condition
        last = condition()
    return last
