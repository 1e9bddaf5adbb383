"""Wrong answers to notebook 08's exercise, each a mistake a learner makes with watermarks and windows.

Each wrong answer is the windowing rule with one decision made the wrong way: ``_Rule`` spells the rule out in
small overridable steps (right by default), and each class below overrides the one step it gets wrong.
"""

from __future__ import annotations

from solutions.nb08 import RevenueWindows
from solutions.wrong import Wrong


class _Rule(RevenueWindows):
    """The right rule, one decision per method."""

    def start_of(self, event_ms: int) -> int:
        return event_ms - event_ms % self.size_ms

    def watermark(self, event_ms: int) -> int | None:
        """The watermark as it stands, before or after ``event_ms`` was seen."""
        return None if self.max_seen is None else self.max_seen - self.grace_ms

    def is_late(self, start: int, event_ms: int, watermark: int | None) -> bool:
        return watermark is not None and start + self.size_ms <= watermark

    def is_final(self, start: int, watermark: int) -> bool:
        return start + self.size_ms <= watermark

    def set_aside(self, event_ms: int, cents: int, start: int) -> None:
        self.late.append((event_ms, cents))

    def add(self, event_ms: int, cents: int) -> list[tuple[int, int]]:
        start = self.start_of(event_ms)
        if self.is_late(start, event_ms, self.watermark(event_ms)):
            self.set_aside(event_ms, cents, start)
        else:
            self.open[start] = self.open.get(start, 0) + cents
        self.max_seen = event_ms if self.max_seen is None else max(self.max_seen, event_ms)
        watermark = self.watermark(event_ms)
        assert watermark is not None
        final = sorted(s for s in self.open if self.is_final(s, watermark))
        return [(s, self.open.pop(s)) for s in final]


class EndInclusive(_Rule):
    """Windows ``(start, end]``: an event exactly on a boundary goes to the window that ends there."""

    def start_of(self, event_ms: int) -> int:
        if event_ms and event_ms % self.size_ms == 0:
            return event_ms - self.size_ms
        return event_ms - event_ms % self.size_ms


class ClosesAfterTheEnd(_Rule):
    """The end counted as inside the window: it closes only once the watermark is strictly past it."""

    def is_late(self, start: int, event_ms: int, watermark: int | None) -> bool:
        return watermark is not None and start + self.size_ms < watermark

    def is_final(self, start: int, watermark: int) -> bool:
        return start + self.size_ms < watermark


class WatermarkFromCurrentEvent(_Rule):
    """The watermark is the event in hand minus the grace: an old event moves it back and reopens a window."""

    def watermark(self, event_ms: int) -> int | None:
        return event_ms - self.grace_ms


class DropsLateEvents(_Rule):
    """Skips an event for a final window without keeping it anywhere."""

    def set_aside(self, event_ms: int, cents: int, start: int) -> None:
        pass


class GraceOnTheWrongSide(_Rule):
    """The grace added to event time instead of subtracted: windows close before their stragglers arrive."""

    def watermark(self, event_ms: int) -> int | None:
        return None if self.max_seen is None else self.max_seen + self.grace_ms


class LateByEventTime(_Rule):
    """Calls an event late when it is older than the watermark, though its window may still be open."""

    def is_late(self, start: int, event_ms: int, watermark: int | None) -> bool:
        return watermark is not None and event_ms < watermark


class LateAndCounted(_Rule):
    """Records a late event and adds it to its window anyway: the final window is emitted a second time."""

    def set_aside(self, event_ms: int, cents: int, start: int) -> None:
        self.late.append((event_ms, cents))
        self.open[start] = self.open.get(start, 0) + cents


class NewestFirst(_Rule):
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
