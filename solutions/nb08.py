"""Reference solutions for notebook 08 (stream processing). Keys match ``course_lib.exercises.nb08.CHECKS``."""

from __future__ import annotations

from typing import Any


class RevenueWindows:
    """Revenue per tumbling window ``[start, start + size)`` on event time; a window is final once the watermark
    (the largest event time seen minus the grace) reaches its end; an event for a final window is late."""

    def __init__(self, size_ms: int, grace_ms: int) -> None:
        self.size_ms = size_ms
        self.grace_ms = grace_ms
        self.open: dict[int, int] = {}  # window start ms -> cents so far, for the windows not final yet
        self.max_seen: int | None = None  # the largest event time seen so far
        self.late: list[tuple[int, int]] = []  # (event_ms, cents) of the events too late for their window

    def add(self, event_ms: int, cents: int) -> list[tuple[int, int]]:
        """Add one event; return the windows it made final, ``(start_ms, total_cents)``, oldest first."""
        start = event_ms - event_ms % self.size_ms
        watermark = None if self.max_seen is None else self.max_seen - self.grace_ms
        if watermark is not None and start + self.size_ms <= watermark:
            self.late.append((event_ms, cents))
        else:
            self.open[start] = self.open.get(start, 0) + cents
        self.max_seen = event_ms if self.max_seen is None else max(self.max_seen, event_ms)
        watermark = self.max_seen - self.grace_ms
        final = sorted(s for s in self.open if s + self.size_ms <= watermark)
        return [(s, self.open.pop(s)) for s in final]

    def flush(self) -> list[tuple[int, int]]:
        """End of a bounded stream: every open window, oldest first."""
        final = sorted(self.open.items())
        self.open.clear()
        return final


ANSWERS: dict[str, Any] = {"revenue_windows": RevenueWindows}
