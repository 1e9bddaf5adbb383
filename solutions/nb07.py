"""Reference solutions for notebook 07 (partitions and groups). Keys match ``course_lib.exercises.nb07.CHECKS``."""

from __future__ import annotations

from typing import Any


def key_for(event: dict[str, Any]) -> str:
    """Key by order: one order's events share a partition (and so keep their order); orders spread out."""
    return str(event["order_id"])


def lag(committed: dict[int, int], end: dict[int, int]) -> dict[int, int]:
    """Records not yet processed per partition: high-water mark minus the committed offset (0 if none)."""
    return {partition: high - committed.get(partition, 0) for partition, high in end.items()}


ANSWERS: dict[str, Any] = {"key_for": key_for, "lag": lag}
