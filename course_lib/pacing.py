"""Sending at a chosen rate: a pacer that spreads work evenly over time, and a rate that backs off when refused.

Load generators and slow consumers in the course need "n per second", not "as fast as possible". :class:`Pacer`
turns elapsed time into credit (``rate`` per second) and hands out whole units of it; idle time banks at most a
short burst, so a thread that was descheduled for a second does not flood the broker afterwards.
:class:`AdaptiveRate` is additive-increase/multiplicative-decrease (AIMD, as in TCP): a refusal (a publisher nack
from a full queue) halves the rate, every accepted send adds a little back — so a publisher settles just below
what the consumer side can take. Both take an injected clock and do no I/O.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

Clock = Callable[[], float]


class Pacer:
    """Hands out ``rate`` units per second of elapsed time, evenly; at most ``burst_s`` seconds' worth banked."""

    def __init__(self, rate: float, *, burst_s: float = 0.25, clock: Clock = time.monotonic) -> None:
        if rate < 0 or burst_s <= 0:
            raise ValueError("rate must be >= 0 and burst_s > 0")
        self._clock = clock
        self._rate = float(rate)
        self.burst_s = burst_s
        self._credit = 0.0
        self._last = clock()
        self._lock = threading.Lock()

    @property
    def rate(self) -> float:
        """Units per second."""
        return self._rate

    def set_rate(self, rate: float) -> None:
        """Change the rate from now on (credit earned at the old rate is kept)."""
        if rate < 0:
            raise ValueError("rate must be >= 0")
        with self._lock:
            self._accrue()
            self._rate = float(rate)

    def take(self, limit: int | None = None) -> int:
        """How many units may go now (at most ``limit``); they are spent."""
        with self._lock:
            self._accrue()
            n = int(self._credit)
            if limit is not None:
                n = max(0, min(n, limit))
            self._credit -= n
            return n

    def wait_s(self) -> float:
        """Seconds until the next whole unit is due (``inf`` at rate 0)."""
        with self._lock:
            self._accrue()
            if self._credit >= 1:
                return 0.0
            return math.inf if self._rate == 0 else (1 - self._credit) / self._rate

    def _accrue(self) -> None:
        now = self._clock()
        cap = max(1.0, self._rate * self.burst_s)
        earned = self._credit + (now - self._last) * self._rate
        self._credit = max(self._credit, min(cap, earned))  # the cap limits banking, it never takes credit away
        self._last = now


class AdaptiveRate:
    """AIMD: ``refused()`` multiplies the rate by ``decrease`` (down to ``floor``), ``accepted()`` adds ``step``."""

    def __init__(self, start: float, *, floor: float = 1.0, ceiling: float | None = None, step: float = 1.0,
                 decrease: float = 0.5) -> None:
        if not 0 < decrease < 1 or floor <= 0 or start < floor:
            raise ValueError("need 0 < decrease < 1, floor > 0 and start >= floor")
        self.rate = float(start)
        self.floor = floor
        self.ceiling = ceiling if ceiling is not None else float(start)
        self.step = step
        self.decrease = decrease
        self.refusals = 0

    def accepted(self) -> float:
        """One send was accepted: grow the rate a little (up to the ceiling). Returns the new rate."""
        self.rate = min(self.ceiling, self.rate + self.step)
        return self.rate

    def refused(self) -> float:
        """One send was refused: cut the rate (not below the floor). Returns the new rate."""
        self.refusals += 1
        self.rate = max(self.floor, self.rate * self.decrease)
        return self.rate
