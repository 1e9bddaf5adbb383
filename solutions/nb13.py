"""Reference solutions for notebook 13 (measuring performance). Keys match ``course_lib.exercises.nb13.CHECKS``."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from typing import Any


def p95(samples: list[float]) -> float:
    """The 95th percentile by linear interpolation between the two closest ranks of the sorted samples."""
    ordered = sorted(samples)  # a sorted copy: never reorder the caller's list
    rank = (len(ordered) - 1) * 0.95
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def compare(a: Callable[[], Any], b: Callable[[], Any], clock: Callable[[], float], rounds: int = 12) -> float:
    """How many times as long ``b`` takes as ``a``: warm-up, interleaved rounds, median of per-round ratios."""
    a()  # warm-up: neither pays its start-up cost inside a timing
    b()
    ratios = []
    for _ in range(rounds):
        start = clock()
        a()
        middle = clock()
        b()
        end = clock()
        ratios.append((end - middle) / (middle - start))
    return statistics.median(ratios)


ANSWERS: dict[str, Any] = {"harness": compare, "p95": p95, "flawed": {"A", "C", "D"}}
