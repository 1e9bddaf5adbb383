"""Order statistics for samples: percentiles by linear interpolation, a five-number summary, ratio spread."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(samples: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (0–100) of ``samples``, interpolating linearly between the two closest ranks.

    This is the common definition (NumPy's default, Excel's PERCENTILE.INC): sort, find the fractional rank
    ``(n - 1) * p / 100``, interpolate. ``percentile(xs, 50)`` is the median.
    """
    if not samples:
        raise ValueError("percentile of no samples: measure at least one run first")
    if not 0 <= p <= 100:
        raise ValueError(f"percentile p={p} is outside 0..100; pass e.g. 95 for p95")
    ordered = sorted(samples)
    rank = (len(ordered) - 1) * p / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def nearest_rank(samples: Sequence[float], p: float) -> float:
    """The other textbook percentile: the smallest sample with at least ``p`` % of samples at or below it."""
    if not samples:
        raise ValueError("percentile of no samples: measure at least one run first")
    ordered = sorted(samples)
    index = max(0, math.ceil(p / 100 * len(ordered)) - 1)
    return ordered[index]


@dataclass(frozen=True)
class Summary:
    """What a list of samples looks like: count, mean, and the percentiles that matter for latency."""

    n: int
    mean: float
    minimum: float
    p50: float
    p95: float
    p99: float
    maximum: float

    def scaled(self, factor: float) -> Summary:
        """The same summary in another unit (e.g. ``factor=1000`` for seconds → milliseconds)."""
        return Summary(self.n, self.mean * factor, self.minimum * factor, self.p50 * factor, self.p95 * factor,
                       self.p99 * factor, self.maximum * factor)

    def __str__(self) -> str:
        return (f"n={self.n} p50={self.p50:.3g} p95={self.p95:.3g} p99={self.p99:.3g} "
                f"(mean {self.mean:.3g}, max {self.maximum:.3g})")


def summarize(samples: Sequence[float]) -> Summary:
    """Count, mean, min, p50, p95, p99 and max of ``samples``."""
    if not samples:
        raise ValueError("summarize() needs at least one sample")
    return Summary(len(samples), statistics.fmean(samples), min(samples), percentile(samples, 50),
                   percentile(samples, 95), percentile(samples, 99), max(samples))


def ratio_spread(ratios: Sequence[float]) -> float:
    """How far repeated measurements of one ratio spread, relative to their median: ``(max - min) / median``.

    Used to size a regression check's noise margin: a drop smaller than the spread seen between identical runs
    is not evidence of a regression.
    """
    if not ratios:
        raise ValueError("ratio_spread() needs at least one ratio")
    middle = statistics.median(ratios)
    return (max(ratios) - min(ratios)) / middle if middle else math.inf
