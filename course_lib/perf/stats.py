"""Order statistics for samples: percentiles, a latency summary, ratio spread, and bootstrap confidence intervals
for the ratio of two cases measured side by side."""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Callable, Sequence
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


# ------------------------------------------------------------------------------- confidence interval of a ratio

BOOTSTRAP_SEED = 13
"""The default seed: the same runs always give the same interval, so a report can be reproduced from its JSON."""
BOOTSTRAP_RESAMPLES = 2_000


@dataclass(frozen=True)
class Interval:
    """A point estimate with a bootstrap confidence interval around it, and how it was computed."""

    estimate: float
    low: float
    high: float
    confidence: float
    n: int  # how many samples (here: paired runs) it rests on
    resamples: int
    seed: int

    @property
    def relative_width(self) -> float:
        """``(high - low) / estimate``: 0.2 means the data pin the value down to about ±10 %."""
        return (self.high - self.low) / self.estimate if self.estimate else math.inf

    def __contains__(self, value: float) -> bool:
        return self.low <= value <= self.high

    def __str__(self) -> str:
        return (f"{self.estimate:.3g} ({self.confidence:.0%} CI {self.low:.3g}–{self.high:.3g}, "
                f"n={self.n})")


def paired_ratios(subject: Sequence[float], baseline: Sequence[float]) -> list[float]:
    """``subject[i] / baseline[i]`` for each repeat ``i``: the two were measured back to back (interleaved), so
    a noisy moment slows both members of a pair and largely cancels out of their ratio."""
    if len(subject) != len(baseline):
        raise ValueError(f"paired ratios need as many subject runs as baseline runs, got {len(subject)} and "
                         f"{len(baseline)}: run the cases interleaved, the same number of times each")
    if any(b <= 0 for b in baseline):
        raise ValueError("a baseline run measured no throughput (0 or negative): its ratio is undefined; "
                         "check that the baseline case did its work")
    return [s / b for s, b in zip(subject, baseline, strict=True)]


def bootstrap_interval(samples: Sequence[float], *, confidence: float = 0.95,
                       statistic: Callable[[Sequence[float]], float] = statistics.median,
                       resamples: int = BOOTSTRAP_RESAMPLES, seed: int = BOOTSTRAP_SEED) -> Interval:
    """A percentile-bootstrap confidence interval for ``statistic`` (default: the median) of ``samples``.

    Resample the samples with replacement ``resamples`` times, compute the statistic of each resample, and take
    the middle ``confidence`` share of those values. It assumes nothing about the shape of the noise, and the
    median keeps one disturbed run from moving the interval much. A fixed ``seed`` makes it reproducible.
    """
    if len(samples) < 2:
        raise ValueError(f"a confidence interval needs at least 2 samples, got {len(samples)}: "
                         "measure more repeats")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence={confidence} is outside (0, 1); pass e.g. 0.95 for a 95 % interval")
    if resamples < 100:
        raise ValueError(f"resamples={resamples} is too few for stable interval ends; use at least 100")
    rng = random.Random(seed)
    values = list(samples)
    estimates = [statistic(rng.choices(values, k=len(values))) for _ in range(resamples)]
    tail = (1 - confidence) / 2 * 100
    return Interval(statistic(values), percentile(estimates, tail), percentile(estimates, 100 - tail), confidence,
                    len(values), resamples, seed)


def ratio_interval(subject: Sequence[float], baseline: Sequence[float], *, confidence: float = 0.95,
                   resamples: int = BOOTSTRAP_RESAMPLES, seed: int = BOOTSTRAP_SEED) -> Interval:
    """How much faster ``subject`` is than ``baseline``, with a confidence interval: the median of the paired
    ratios (run ``i`` of the subject over run ``i`` of the baseline), bootstrapped over the pairs."""
    return bootstrap_interval(paired_ratios(subject, baseline), confidence=confidence, resamples=resamples,
                              seed=seed)
