"""Reference solutions for notebook 13 (measuring performance). Keys match ``course_lib.exercises.nb13.CHECKS``."""

from __future__ import annotations

import math
from typing import Any


def p95(samples: list[float]) -> float:
    """The 95th percentile by linear interpolation between the two closest ranks of the sorted samples."""
    ordered = sorted(samples)  # a sorted copy: never reorder the caller's list
    rank = (len(ordered) - 1) * 0.95
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


ANSWERS: dict[str, Any] = {"p95": p95, "flawed": {"A", "C", "D"}}
