"""Notebook 08's exercise: revenue per tumbling window, computed in one batch pass.

``revenue_per_window(orders, size_ms)`` gets ``(event_ms, product, cents)`` tuples in any order and returns
{window start ms: total cents}. A window is ``[start, start + size)``; ``start`` is a multiple of ``size_ms``. The
stream processor must agree with this batch answer — that is how the notebook checks it.
"""

from __future__ import annotations

from collections.abc import Callable

from course_lib.exercises import Check, CheckResult, Hints, exercise, not_attempted, solved, wrong

HINTS = Hints(
    concept="A tumbling window has a fixed size and windows never overlap: every event belongs to exactly one "
            "window, chosen by its event time — not by the order in which it arrives.",
    approach="For each event, find the start of its window: the largest multiple of size_ms that is not after the "
             "event's time (windows are half-open, [start, start + size)). Add the event's cents to that "
             "window's total.",
    skeleton="def revenue_per_window(orders, size_ms):\n    totals = {}\n    for event_ms, _product, cents in "
             "orders:\n        start = ...\n        totals[start] = ...\n    return totals",
)

Orders = list[tuple[int, str, int]]  # integer cents, as notebook 01 teaches


@exercise("nb08.revenue_per_window", title="revenue per tumbling window", level="★", minutes=8, hints=HINTS)
def check_revenue_per_window(revenue_per_window: Callable[[Orders, int], dict[int, int]] | None) -> CheckResult:
    """Compare with the expected totals on out-of-order events and a window boundary."""
    if revenue_per_window is None:
        return not_attempted("write revenue_per_window(orders, size_ms) returning {window_start_ms: cents}")
    if not callable(revenue_per_window):
        return wrong(f"revenue_per_window must be a function, got {type(revenue_per_window).__name__}")
    orders: Orders = [(12_000, "mug", 1250), (3_000, "tee", 2000), (10_000, "mug", 1250), (9_999, "cap", 900),
                      (25_500, "tee", 2000), (1_000, "mug", 1250)]
    expected = {0: 4150, 10_000: 2500, 20_000: 2000}
    got = revenue_per_window(list(orders), 10_000)
    if not isinstance(got, dict):
        return wrong(f"expected a dict {{window_start_ms: cents}}, got {type(got).__name__}")
    normalised = {int(k): float(v) for k, v in got.items()}
    if normalised.get(0) == 5400.0 and normalised.get(10_000) == 1250.0:
        return wrong("the event at 10 000 ms was put in the window that ends at 10 000: windows are half-open")
    if normalised != expected:
        return wrong(f"got {normalised}, expected {expected}")
    if revenue_per_window([], 10_000) not in ({}, None):
        return wrong("no orders should give no windows ({})")
    return solved("revenue per window matches; the stream processor's totals must equal this batch answer")


CHECKS: dict[str, Check] = {"revenue_per_window": check_revenue_per_window}
