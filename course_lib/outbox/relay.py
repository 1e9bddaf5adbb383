"""The relay: reads unsent outbox rows in order, publishes each, then marks it sent — at-least-once.

If the relay dies after the broker confirmed a message but before ``mark_sent``, the next relay publishes it
again: the consumer sees a duplicate (which the inbox absorbs) but never a gap. If a publish fails, the relay
stops its batch there, so a later event of the same stream is never published before an earlier one.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from course_lib.errors import describe_error, raise_if_failed
from course_lib.messages import Envelope
from course_lib.outbox.outbox import OutboxCounts, OutboxRow
from course_lib.waiting import wait_until


class Publisher(Protocol):
    """What the relay needs from a broker: publish one envelope, return once the broker has it, raise if not."""

    def publish(self, envelope: Envelope[Any]) -> None: ...


class OutboxStore(Protocol):
    """What the relay needs from an outbox (``SQLiteOutbox`` and ``PostgresOutbox`` provide it)."""

    def pending(self, limit: int = 100) -> list[OutboxRow]: ...

    def mark_attempt(self, row_id: int) -> None: ...

    def mark_sent(self, row_ids: list[int]) -> None: ...

    def counts(self) -> OutboxCounts: ...


CrashHook = Callable[[str], None]
"""Called where a relay process could die: ``"before publish"``, ``"after publish"``, ``"after mark"``."""


@dataclass
class RelayStats:
    """What one relay did."""

    published: int = 0
    failures: int = 0
    last_error: str = ""


class Relay:
    """Moves outbox rows to a publisher."""

    def __init__(self, outbox: OutboxStore, publisher: Publisher, *, batch_size: int = 100,
                 crash_hook: CrashHook | None = None) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.outbox = outbox
        self.publisher = publisher
        self.batch_size = batch_size
        self.stats = RelayStats()
        self._crash_hook = crash_hook

    def _point(self, where: str) -> None:
        if self._crash_hook is not None:
            self._crash_hook(where)

    def run_once(self) -> int:
        """Publish one batch of pending rows; returns how many were published. Raises the first publish error."""
        published = 0
        for row in self.outbox.pending(self.batch_size):
            self._point("before publish")
            self.outbox.mark_attempt(row.id)
            try:
                self.publisher.publish(row.envelope())
            except Exception as exc:
                self.stats.failures += 1
                self.stats.last_error = f"{type(exc).__name__}: {exc}"
                raise
            self._point("after publish")
            self.outbox.mark_sent([row.id])
            self._point("after mark")
            published += 1
            self.stats.published += 1
        return published

    def drain(self, timeout: float = 30.0) -> int:
        """Publish until nothing is pending; returns how many were published."""
        total = 0

        def empty() -> bool:
            nonlocal total
            total += self.run_once()
            return self.outbox.counts().pending == 0

        wait_until(empty, timeout=timeout, interval=0.0, what="the outbox to be empty")
        return total


class RelayWorker:
    """A relay in a background thread, polling the outbox every ``interval`` seconds until ``stop()``.

    A failed round (the broker away, a row that cannot be published) is noted in ``errors`` and retried next round;
    the thread never dies of it. Should it stop on its own anyway, ``running`` turns False, the cause is kept in
    ``error``, and ``stop()`` / ``join()`` raise ``WorkerFailed`` with the cause chained.
    """

    def __init__(self, relay: Relay, *, interval: float = 0.05) -> None:
        self.relay = relay
        self.interval = interval
        self.errors: deque[str] = deque(maxlen=100)  # the most recent failed rounds, newest last
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="outbox-relay", daemon=True)

    def start(self) -> RelayWorker:
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    moved = self.relay.run_once()
                except Exception as exc:  # keep relaying: the row stays pending and is retried next round
                    self.errors.append(describe_error(exc))
                    moved = 0
                if not moved:
                    self._stop.wait(self.interval)  # poll interval while idle; stop() wakes it at once
        except BaseException as exc:  # e.g. SystemExit from a crash hook: kept for stop()/join(), never silent
            self.error = exc

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the thread to finish and wait for it; ``WorkerFailed`` if it had stopped on its own."""
        self._stop.set()
        self.join(timeout)

    def join(self, timeout: float | None = None) -> None:
        """Wait until the thread ends (after ``stop()``, or on its own); ``WorkerFailed`` if it died."""
        if self._thread.is_alive():
            self._thread.join(timeout)
        raise_if_failed("the outbox relay", self.error)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()
