"""Timing work the honest way: warm-up, repeats, medians, and cases interleaved so noise hits them alike."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Run:
    """One timed run: ``items`` in ``seconds``."""

    items: int
    seconds: float

    @property
    def per_second(self) -> float:
        """Throughput of this run."""
        return self.items / self.seconds if self.seconds > 0 else float("inf")


Work = Callable[[], "int | Run"]
"""A unit of work: returns how many items it handled (and is timed as a whole), or a ``Run`` it timed itself
(when set-up such as refilling a queue must stay outside the timed part)."""


def timed(work: Work, clock: Callable[[], float] = time.perf_counter) -> Run:
    """Run ``work`` once and time it with a monotonic clock (``perf_counter``, never ``time.time``)."""
    start = clock()
    result = work()
    elapsed = clock() - start
    return result if isinstance(result, Run) else Run(result, elapsed)


@dataclass
class Throughput:
    """Repeated runs of one case; the median is the number to report."""

    label: str
    runs: list[Run] = field(default_factory=list)

    @property
    def rates(self) -> list[float]:
        """Items per second of each run."""
        return [run.per_second for run in self.runs]

    @property
    def median(self) -> float:
        """Median items per second over the runs (robust to one noisy run)."""
        if not self.runs:
            raise ValueError(f"case {self.label!r} has no runs yet")
        return statistics.median(self.rates)


def throughput(label: str, work: Work, *, repeats: int = 5, warmup: int = 1) -> Throughput:
    """Run ``work`` ``warmup`` times untimed, then ``repeats`` times timed."""
    return side_by_side({label: work}, repeats=repeats, warmup=warmup)[label]


@dataclass
class Comparison:
    """Cases measured side by side in one session; compare them by ratio of medians, not by absolute numbers."""

    cases: dict[str, Throughput]
    order: list[str] = field(default_factory=list)  # the order runs actually happened in (to show interleaving)

    def __getitem__(self, label: str) -> Throughput:
        return self.cases[label]

    def ratio(self, subject: str, baseline: str) -> float:
        """``median(subject) / median(baseline)``: above 1 means the subject handles more items per second."""
        return self.cases[subject].median / self.cases[baseline].median

    def worst_case_ratio(self, subject: str, baseline: str) -> float:
        """The subject's slowest run over the baseline's fastest: a pessimistic bound for "A beats B" claims."""
        return min(self.cases[subject].rates) / max(self.cases[baseline].rates)

    def table(self) -> list[tuple[str, float, float, float]]:
        """``(label, median/s, min/s, max/s)`` per case, in insertion order."""
        return [(label, t.median, min(t.rates), max(t.rates)) for label, t in self.cases.items()]


def side_by_side(cases: Mapping[str, Work], *, repeats: int = 5, warmup: int = 1) -> Comparison:
    """Warm every case up, then run them interleaved (A, B, A, B, …) ``repeats`` times each.

    Interleaving is the point: if the machine gets busy halfway through, every case sees some of the busy
    period, so their ratio holds even though each absolute number moved.
    """
    if repeats < 1:
        raise ValueError("repeats must be at least 1: one timed run per case is the minimum")
    if warmup < 0:
        raise ValueError("warmup cannot be negative")
    for _ in range(warmup):
        for work in cases.values():
            work()
    result = Comparison({label: Throughput(label) for label in cases})
    for _ in range(repeats):
        for label, work in cases.items():
            result.cases[label].runs.append(timed(work))
            result.order.append(label)
    return result
