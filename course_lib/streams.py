"""Windowed aggregation on event time: tumbling and hopping windows, a watermark, a grace period for late events.

- **Event time** is when the thing happened (the order was placed), carried in the record; it is not when the
  processor happens to see the record. Windows are cut on event time, so a replay gives the same answer.
- The **watermark** says "no more events older than this are expected": the largest event time seen minus the
  **grace** period. A window is final (emitted once, then forgotten) when the watermark passes its end, i.e. when
  event time has moved ``grace_ms`` past the window's end. With several inputs (a topic's partitions, read at
  different speeds) the largest event time is taken per input and the watermark is the *smallest* of them, so a
  partition that is read later does not find its windows already closed.
- An event whose windows are all final already is **late**: it is counted and kept in ``late_events`` — never
  silently dropped — so an operator can see how often the grace period is too short.
- A restarted processor can pass ``resume_watermark`` (saved with its committed offsets): records for windows
  that were already final before the crash are recognised and skipped instead of producing partial results.

The same idea under each tool's own name:

- **Kafka Streams**: ``TimeWindows.ofSizeAndGrace(size, grace)``; a window closes when *stream time* (the largest
  record timestamp its task has seen) passes its end plus the grace, and ``suppress(untilWindowCloses(...))``
  emits only that final result. ``grace_ms`` here is that grace. (Stream time is one maximum over the task's
  partitions; this module, like Flink, takes the minimum over inputs.)
- **Apache Flink**: the delay is built into the watermark itself,
  ``WatermarkStrategy.forBoundedOutOfOrderness(Duration.ofMillis(grace_ms))``; an event-time window fires when the
  watermark passes its end. Flink's ``allowedLateness`` is a *different* setting: the window keeps its state
  after it fired and fires again, with an updated result, for each late event within that time. This module
  never updates an emitted window; an event after the watermark is late, full stop.

No I/O here: ``course_lib.messaging.kafka.windowed`` feeds it from a topic and writes results to one.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True, order=True)
class Window:
    """The half-open event-time interval ``[start_ms, end_ms)``."""

    start_ms: int
    end_ms: int

    def __str__(self) -> str:
        return f"[{self.start_ms / 1000:g}s, {self.end_ms / 1000:g}s)"


class HoppingWindows:
    """Windows of ``size_ms`` starting every ``advance_ms``; an event falls into ``size/advance`` of them."""

    def __init__(self, size_ms: int, advance_ms: int) -> None:
        if size_ms <= 0 or advance_ms <= 0:
            raise ValueError(f"window size and advance must be positive, got size={size_ms} advance={advance_ms}")
        if advance_ms > size_ms:
            raise ValueError(f"advance ({advance_ms} ms) larger than size ({size_ms} ms) would leave gaps; "
                             f"use advance <= size")
        self.size_ms = size_ms
        self.advance_ms = advance_ms

    def windows_for(self, event_ms: int) -> list[Window]:
        """Every window containing ``event_ms``, oldest first."""
        last_start = event_ms - event_ms % self.advance_ms
        starts = range(last_start, event_ms - self.size_ms, -self.advance_ms)
        return sorted(Window(s, s + self.size_ms) for s in starts)


class TumblingWindows(HoppingWindows):
    """Back-to-back windows of ``size_ms``: each event is in exactly one."""

    def __init__(self, size_ms: int) -> None:
        super().__init__(size_ms, size_ms)


@dataclass(frozen=True)
class WindowResult(Generic[K]):
    """The final value of one (window, key)."""

    window: Window
    key: K
    total: float
    count: int


@dataclass
class _Acc:
    total: float = 0  # stays an int while the values are ints (integer cents stay integer cents)
    count: int = 0


@dataclass
class LateEvent(Generic[K]):
    """An event that arrived after all its windows were final."""

    event_ms: int
    key: K
    value: float
    watermark_ms: int


@dataclass
class WindowedAggregator(Generic[K]):
    """Sums ``value`` per (window, key) and emits each window once the watermark passes its end."""

    windows: HoppingWindows
    grace_ms: int = 0
    resume_watermark_ms: int | None = None
    inputs: int = 1
    on_result: list[Callable[[WindowResult[K]], None]] = field(default_factory=list)
    late_events: list[LateEvent[K]] = field(default_factory=list)
    skipped_on_resume: int = 0

    def __post_init__(self) -> None:
        self._open: dict[Window, dict[K, _Acc]] = {}
        self._max_by_input: dict[int, int] = {}
        self.emitted: list[WindowResult[K]] = []

    @property
    def watermark_ms(self) -> int | None:
        """Smallest over the inputs of the largest event time seen, minus the grace (or the resumed watermark,
        whichever is later); ``None`` until every input has sent an event."""
        own = None
        if len(self._max_by_input) >= self.inputs:
            own = min(self._max_by_input.values()) - self.grace_ms
        if self.resume_watermark_ms is None:
            return own
        return self.resume_watermark_ms if own is None else max(own, self.resume_watermark_ms)

    @property
    def late(self) -> int:
        """How many events arrived too late for every one of their windows."""
        return len(self.late_events)

    def add(self, event_ms: int, key: K, value: float, source: int = 0) -> list[WindowResult[K]]:
        """Add one event from input ``source`` (0 … inputs-1); return the windows its watermark advance closed."""
        watermark = self.watermark_ms
        accepted = False
        for window in self.windows.windows_for(event_ms):
            if watermark is not None and window.end_ms <= watermark:
                continue  # this window is final already
            acc = self._open.setdefault(window, {}).setdefault(key, _Acc())
            acc.total += value
            acc.count += 1
            accepted = True
        if not accepted:
            resumed = self.resume_watermark_ms
            if resumed is not None and all(w.end_ms <= resumed for w in self.windows.windows_for(event_ms)):
                self.skipped_on_resume += 1  # its windows were emitted (or it was counted late) before the restart
            else:
                self.late_events.append(LateEvent(event_ms, key, value, watermark if watermark is not None else 0))
        if event_ms > self._max_by_input.get(source, event_ms - 1):
            self._max_by_input[source] = event_ms
        return self._close_until(self.watermark_ms)

    def add_all(self, events: Iterable[tuple[int, K, float]]) -> list[WindowResult[K]]:
        """Add many ``(event_ms, key, value)`` events; every result that became final, in order."""
        results: list[WindowResult[K]] = []
        for event_ms, key, value in events:
            results.extend(self.add(event_ms, key, value))
        return results

    def advance_watermark(self, to_ms: int) -> list[WindowResult[K]]:
        """Move event time forward without an event (e.g. an idle stream's heartbeat) and emit what closes."""
        for source in range(self.inputs):
            self._max_by_input[source] = max(self._max_by_input.get(source, to_ms), to_ms)
        return self._close_until(self.watermark_ms)

    def flush(self) -> list[WindowResult[K]]:
        """Emit every open window (end of a bounded stream)."""
        return self._close_until(None, everything=True)

    def open_totals(self) -> dict[Window, dict[K, float]]:
        """What the still-open windows hold so far (provisional, for a live chart)."""
        return {w: {k: a.total for k, a in keys.items()} for w, keys in sorted(self._open.items())}

    def _close_until(self, watermark: int | None, everything: bool = False) -> list[WindowResult[K]]:
        results: list[WindowResult[K]] = []
        for window in sorted(self._open):
            if not everything and (watermark is None or window.end_ms > watermark):
                break
            for key, acc in self._open.pop(window).items():
                result = WindowResult(window, key, acc.total, acc.count)
                results.append(result)
                self.emitted.append(result)
                for callback in self.on_result:
                    callback(result)
        return results


def batch_totals(events: Iterable[tuple[int, K, float]], windows: HoppingWindows) -> dict[tuple[Window, K], float]:
    """The same sums computed in one pass over all events (no watermark): what the stream must agree with."""
    totals: dict[tuple[Window, K], float] = {}
    for event_ms, key, value in events:
        for window in windows.windows_for(event_ms):
            totals[(window, key)] = totals.get((window, key), 0) + value
    return totals


def top_keys(totals: dict[K, float], n: int = 3) -> list[tuple[K, float]]:
    """The ``n`` largest totals, largest first (ties broken by key text, so the order is stable)."""
    return sorted(totals.items(), key=lambda kv: (-kv[1], str(kv[0])))[:n]
