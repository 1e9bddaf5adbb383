"""Wrong answers to notebook 08's exercise."""

from __future__ import annotations

from solutions.wrong import Wrong

Orders = list[tuple[int, str, float]]


def closed_windows(orders: Orders, size_ms: int) -> dict[int, float]:
    totals: dict[int, float] = {}
    for event_ms, _p, cents in orders:
        start = ((event_ms - 1) // size_ms) * size_ms if event_ms % size_ms == 0 and event_ms else \
            event_ms - event_ms % size_ms  # an event on the boundary goes to the window before
        totals[start] = totals.get(start, 0.0) + cents
    return totals


def rounded(orders: Orders, size_ms: int) -> dict[int, float]:
    totals: dict[int, float] = {}
    for event_ms, _p, cents in orders:
        start = round(event_ms / size_ms) * size_ms
        totals[start] = totals.get(start, 0.0) + cents
    return totals


def by_arrival(orders: Orders, size_ms: int) -> dict[int, float]:
    totals: dict[int, float] = {}
    for index, (_ms, _p, cents) in enumerate(orders):  # processing order, not event time
        start = (index * 2_000) - (index * 2_000) % size_ms
        totals[start] = totals.get(start, 0.0) + cents
    return totals


def last_wins(orders: Orders, size_ms: int) -> dict[int, float]:
    return {event_ms - event_ms % size_ms: float(cents) for event_ms, _p, cents in orders}


def window_end(orders: Orders, size_ms: int) -> dict[int, float]:
    totals: dict[int, float] = {}
    for event_ms, _p, cents in orders:
        end = event_ms - event_ms % size_ms + size_ms
        totals[end] = totals.get(end, 0.0) + cents
    return totals


def counts(orders: Orders, size_ms: int) -> dict[int, float]:
    totals: dict[int, float] = {}
    for event_ms, _p, _cents in orders:
        start = event_ms - event_ms % size_ms
        totals[start] = totals.get(start, 0.0) + 1
    return totals


WRONG = {"revenue_per_window": [
    Wrong("closed windows: the boundary goes to the earlier window", closed_windows),
    Wrong("rounds to the nearest window", rounded),
    Wrong("windows by arrival order", by_arrival),
    Wrong("the last event overwrites the total", last_wins),
    Wrong("keyed by the window's end", window_end),
    Wrong("counts events instead of summing cents", counts),
]}

GIVEAWAYS = {"revenue_per_window": ("event_ms - event_ms % size_ms", "event_ms % size_ms")}
