"""Notebook 08's exercise: revenue per tumbling window, computed in one batch pass.

``revenue_per_window(orders, size_ms)`` gets ``(event_ms, product, cents)`` tuples in any order and returns
{window start ms: total cents}. A window is ``[start, start + size)``; ``start`` is a multiple of ``size_ms``. The
stream processor must agree with this batch answer — that is how the notebook checks it.
"""

from __future__ import annotations

from collections.abc import Callable

from course_lib.exercises import CheckResult, guarded, not_attempted, solved, wrong

_HINTS = (
    "The window of an event starts at event_ms - event_ms % size_ms.",
    "Sum the cents of every event into its window's total; use event time, never the order you receive them in.",
    "An event at exactly start + size belongs to the *next* window: windows are half-open.",
)

Orders = list[tuple[int, str, int]]  # integer cents, as notebook 01 teaches


@guarded
def check_revenue_per_window(revenue_per_window: Callable[[Orders, int], dict[int, int]] | None) -> CheckResult:
    """Compare with the expected totals on out-of-order events and a window boundary."""
    if revenue_per_window is None:
        return not_attempted("write revenue_per_window(orders, size_ms) returning {window_start_ms: cents}", *_HINTS)
    if not callable(revenue_per_window):
        return wrong(f"revenue_per_window must be a function, got {type(revenue_per_window).__name__}", _HINTS[0])
    orders: Orders = [(12_000, "mug", 1250), (3_000, "tee", 2000), (10_000, "mug", 1250), (9_999, "cap", 900),
                      (25_500, "tee", 2000), (1_000, "mug", 1250)]
    expected = {0: 4150, 10_000: 2500, 20_000: 2000}
    got = revenue_per_window(list(orders), 10_000)
    if not isinstance(got, dict):
        return wrong(f"expected a dict {{window_start_ms: cents}}, got {type(got).__name__}", _HINTS[0])
    normalised = {int(k): float(v) for k, v in got.items()}
    if normalised.get(0) == 5400.0 and normalised.get(10_000) == 1250.0:
        return wrong("the event at 10 000 ms was put in the window that ends at 10 000", _HINTS[2])
    if normalised != expected:
        return wrong(f"got {normalised}, expected {expected}", *_HINTS)
    if revenue_per_window([], 10_000) not in ({}, None):
        return wrong("no orders should give no windows ({})", _HINTS[1])
    return solved("revenue per window matches; the stream processor's totals must equal this batch answer")


CHECKS: dict[str, Callable[..., CheckResult]] = {"revenue_per_window": check_revenue_per_window}
