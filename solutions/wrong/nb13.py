"""Wrong answers to notebook 13's exercises."""

from __future__ import annotations

import statistics

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


WRONG = {
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

GIVEAWAYS = {"p95": ("(len(ordered) - 1) * 0.95", "sorted(samples)"),
             "flawed": ("{'A', 'C', 'D'}", "A, C and D")}
