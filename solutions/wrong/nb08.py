"""Wrong answers to notebook 08's exercise, each a mistake a learner makes with watermarks and windows."""

from __future__ import annotations

from solutions.nb08 import RevenueWindows
from solutions.wrong import Wrong


class EndInclusive(RevenueWindows):
    """Windows ``(start, end]``: an event exactly on a boundary goes to the window that ends there."""

    def add(self, event_ms: int, cents: int) -> list[tuple[int, int]]:
        start = (event_ms - 1) // self.size_ms * self.size_ms if event_ms % self.size_ms == 0 and event_ms \
            else event_ms - event_ms % self.size_ms
        watermark = None if self.max_seen is None else self.max_seen - self.grace_ms
        if watermark is not None and start + self.size_ms <= watermark:
            self.late.append((event_ms, cents))
        else:
            self.open[start] = self.open.get(start, 0) + cents
        self.max_seen = event_ms if self.max_seen is None else max(self.max_seen, event_ms)
        final = sorted(s for s in self.open if s + self.size_ms <= self.max_seen - self.grace_ms)
        return [(s, self.open.pop(s)) for s in final]


class ClosesAfterTheEnd(RevenueWindows):
    """The end counted as inside the window: it closes only once the watermark is strictly past it."""

    def add(self, event_ms: int, cents: int) -> list[tuple[int, int]]:
        start = event_ms - event_ms % self.size_ms
        watermark = None if self.max_seen is None else self.max_seen - self.grace_ms
        if watermark is not None and start + self.size_ms < watermark:
            self.late.append((event_ms, cents))
        else:
            self.open[start] = self.open.get(start, 0) + cents
        self.max_seen = event_ms if self.max_seen is None else max(self.max_seen, event_ms)
        final = sorted(s for s in self.open if s + self.size_ms < self.max_seen - self.grace_ms)
        return [(s, self.open.pop(s)) for s in final]


class WatermarkFromCurrentEvent(RevenueWindows):
    """The watermark is the event in hand minus the grace: an old event moves it back and reopens a window."""

    def add(self, event_ms: int, cents: int) -> list[tuple[int, int]]:
        start = event_ms - event_ms % self.size_ms
        watermark = event_ms - self.grace_ms
        if start + self.size_ms <= watermark:
            self.late.append((event_ms, cents))
        else:
            self.open[start] = self.open.get(start, 0) + cents
        final = sorted(s for s in self.open if s + self.size_ms <= watermark)
        return [(s, self.open.pop(s)) for s in final]


class DropsLateEvents(RevenueWindows):
    """Skips an event for a final window without keeping it anywhere."""

    def add(self, event_ms: int, cents: int) -> list[tuple[int, int]]:
        start = event_ms - event_ms % self.size_ms
        watermark = None if self.max_seen is None else self.max_seen - self.grace_ms
        if watermark is None or start + self.size_ms > watermark:
            self.open[start] = self.open.get(start, 0) + cents
        self.max_seen = event_ms if self.max_seen is None else max(self.max_seen, event_ms)
        final = sorted(s for s in self.open if s + self.size_ms <= self.max_seen - self.grace_ms)
        return [(s, self.open.pop(s)) for s in final]


class GraceOnTheWrongSide(RevenueWindows):
    """The grace added to event time instead of subtracted: windows close before their stragglers arrive."""

    def add(self, event_ms: int, cents: int) -> list[tuple[int, int]]:
        start = event_ms - event_ms % self.size_ms
        watermark = None if self.max_seen is None else self.max_seen + self.grace_ms
        if watermark is not None and start + self.size_ms <= watermark:
            self.late.append((event_ms, cents))
        else:
            self.open[start] = self.open.get(start, 0) + cents
        self.max_seen = event_ms if self.max_seen is None else max(self.max_seen, event_ms)
        final = sorted(s for s in self.open if s + self.size_ms <= self.max_seen + self.grace_ms)
        return [(s, self.open.pop(s)) for s in final]


class LateByEventTime(RevenueWindows):
    """Calls an event late when it is older than the watermark, though its window may still be open."""

    def add(self, event_ms: int, cents: int) -> list[tuple[int, int]]:
        start = event_ms - event_ms % self.size_ms
        watermark = None if self.max_seen is None else self.max_seen - self.grace_ms
        if watermark is not None and event_ms < watermark:
            self.late.append((event_ms, cents))
        else:
            self.open[start] = self.open.get(start, 0) + cents
        self.max_seen = event_ms if self.max_seen is None else max(self.max_seen, event_ms)
        final = sorted(s for s in self.open if s + self.size_ms <= self.max_seen - self.grace_ms)
        return [(s, self.open.pop(s)) for s in final]


class LateAndCounted(RevenueWindows):
    """Records a late event and adds it to its window anyway: the final window is emitted a second time."""

    def add(self, event_ms: int, cents: int) -> list[tuple[int, int]]:
        start = event_ms - event_ms % self.size_ms
        watermark = None if self.max_seen is None else self.max_seen - self.grace_ms
        if watermark is not None and start + self.size_ms <= watermark:
            self.late.append((event_ms, cents))
        self.open[start] = self.open.get(start, 0) + cents
        self.max_seen = event_ms if self.max_seen is None else max(self.max_seen, event_ms)
        final = sorted(s for s in self.open if s + self.size_ms <= self.max_seen - self.grace_ms)
        return [(s, self.open.pop(s)) for s in final]


class NewestFirst(RevenueWindows):
    """Emits the windows that became final newest first."""

    def add(self, event_ms: int, cents: int) -> list[tuple[int, int]]:
        return list(reversed(super().add(event_ms, cents)))


WRONG = {"revenue_windows": [
    Wrong("window end inclusive: a boundary event goes to the earlier window", EndInclusive),
    Wrong("a window closes only once the watermark is past its end", ClosesAfterTheEnd),
    Wrong("watermark from the current event, not the largest seen", WatermarkFromCurrentEvent),
    Wrong("late events dropped silently", DropsLateEvents),
    Wrong("grace applied on the wrong side", GraceOnTheWrongSide),
    Wrong("late judged by the event's time, not its window's end", LateByEventTime),
    Wrong("a late event recorded and still added to its window", LateAndCounted),
    Wrong("final windows newest first", NewestFirst),
]}

GIVEAWAYS = {"revenue_windows": ("start + self.size_ms <= watermark", "self.max_seen - self.grace_ms",
                                 "max(self.max_seen, event_ms)")}
