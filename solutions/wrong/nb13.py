"""Wrong answers to notebook 13's exercises."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from solutions.wrong import Wrong


def mean(samples: list[float]) -> float:
    return statistics.fmean(samples)


def maximum(samples: list[float]) -> float:
    return max(samples)


def unsorted_index(samples: list[float]) -> float:
    return samples[int(0.95 * len(samples))]


def sorts_in_place(samples: list[float]) -> float:
    samples.sort()
    return samples[round(0.95 * (len(samples) - 1))]


def a_rank_too_low(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[int(0.95 * (len(ordered) - 1)) - 2]


def median(samples: list[float]) -> float:
    return statistics.median(samples)


Fn = Callable[[], Any]
Clock = Callable[[], float]


def _timed(fn: Fn, clock: Clock) -> float:
    start = clock()
    fn()
    return clock() - start


def no_warm_up(a: Fn, b: Fn, clock: Clock, rounds: int = 12) -> float:
    return statistics.median(_timed(b, clock) / _timed(a, clock) for _ in range(rounds))


def sequential(a: Fn, b: Fn, clock: Clock, rounds: int = 12) -> float:
    a()
    b()
    times_a = [_timed(a, clock) for _ in range(rounds)]  # all of a, then all of b
    times_b = [_timed(b, clock) for _ in range(rounds)]
    return statistics.median(times_b) / statistics.median(times_a)


def mean_of_ratios(a: Fn, b: Fn, clock: Clock, rounds: int = 12) -> float:
    a()
    b()
    return statistics.fmean(_timed(b, clock) / _timed(a, clock) for _ in range(rounds))


def ratio_of_means(a: Fn, b: Fn, clock: Clock, rounds: int = 12) -> float:
    a()
    b()
    pairs = [(_timed(a, clock), _timed(b, clock)) for _ in range(rounds)]
    return statistics.fmean(t for _, t in pairs) / statistics.fmean(t for t, _ in pairs)


def upside_down(a: Fn, b: Fn, clock: Clock, rounds: int = 12) -> float:
    a()
    b()
    return statistics.median(_timed(a, clock) / _timed(b, clock) for _ in range(rounds))


def own_clock(a: Fn, b: Fn, clock: Clock, rounds: int = 12) -> float:
    a()
    b()
    return statistics.median(_timed(b, time.perf_counter) / _timed(a, time.perf_counter) for _ in range(rounds))


def warms_up_a_only(a: Fn, b: Fn, clock: Clock, rounds: int = 12) -> float:
    a()
    return statistics.median(_timed(b, clock) / _timed(a, clock) for _ in range(rounds))


WRONG = {
    "harness": [
        Wrong("no warm-up", no_warm_up),
        Wrong("all of a, then all of b", sequential),
        Wrong("the mean of the per-round ratios", mean_of_ratios),
        Wrong("the ratio of the mean times", ratio_of_means),
        Wrong("the ratio upside down", upside_down),
        Wrong("times with time.perf_counter, not the clock given", own_clock),
        Wrong("warms up only one of them", warms_up_a_only),
    ],
    "p95": [
        Wrong("the mean", mean),
        Wrong("the maximum", maximum),
        Wrong("forgot to sort", unsorted_index),
        Wrong("sorts the caller's list", sorts_in_place),
        Wrong("off by whole ranks", a_rank_too_low),
        Wrong("the median", median),
    ],
    "flawed": [
        Wrong("misses the mean-only report", {"A", "C"}),
        Wrong("flags the honest interleaved run", {"A", "B", "C", "D"}),
        Wrong("only the single run", "A"),
        Wrong("flags the honest percentile report instead", {"A", "C", "E"}),
        Wrong("everything", {"A", "B", "C", "D", "E"}),
    ],
}

GIVEAWAYS = {"harness": ("(end - middle) / (middle - start)", "statistics.median(ratios)"),
             "p95": ("(len(ordered) - 1) * 0.95", "sorted(samples)"),
             "flawed": ("{'A', 'C', 'D'}", "A, C and D")}
