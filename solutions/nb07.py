"""Reference solutions for notebook 07 (partitions and groups). Keys match ``course_lib.exercises.nb07.CHECKS``."""

from __future__ import annotations

from typing import Any


def key_for(event: dict[str, Any]) -> str:
    """Key by order: one order's events share a partition (and so keep their order); orders spread out."""
    return str(event["order_id"])


def lag(committed: dict[int, int], log_start: dict[int, int], end: dict[int, int]) -> dict[int, int]:
    """Records still to read per partition: high-water mark minus where the group resumes — its committed offset,
    or (no commit, ``auto_offset_reset='earliest'``) the first record still stored."""
    return {partition: high - committed.get(partition, log_start[partition]) for partition, high in end.items()}


ANSWERS: dict[str, Any] = {"key_for": key_for, "lag": lag}
