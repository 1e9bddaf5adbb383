"""Reference solutions for notebook 08 (stream processing). Keys match ``course_lib.exercises.nb08.CHECKS``."""

from __future__ import annotations

from typing import Any


def revenue_per_window(orders: list[tuple[int, str, int]], size_ms: int) -> dict[int, int]:
    """Total cents per tumbling window ``[start, start + size)``, on event time."""
    totals: dict[int, int] = {}
    for event_ms, _product, cents in orders:
        start = event_ms - event_ms % size_ms
        totals[start] = totals.get(start, 0) + cents
    return totals


ANSWERS: dict[str, Any] = {"revenue_per_window": revenue_per_window}
