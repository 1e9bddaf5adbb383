"""Reference solutions for notebook 07 (partitions and groups). Keys match ``course_lib.exercises.nb07.CHECKS``."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def key_for(event: dict[str, Any]) -> str:
    """Key by order: one order's events share a partition (and so keep their order); orders spread out."""
    return str(event["order_id"])


def lag(committed: dict[int, int], log_start: dict[int, int], end: dict[int, int]) -> dict[int, int]:
    """Records still to read per partition: high-water mark minus where the group resumes — its committed offset,
    or (no commit, ``auto_offset_reset='earliest'``) the first record still stored."""
    return {partition: high - committed.get(partition, log_start[partition]) for partition, high in end.items()}




def poll_process_commit(consumer: Any, process: Callable[[Any], None], *, max_records: int, deadline_s: float) -> int:
    """Bounded polls; process the whole batch, then commit: the committed position covers only finished work."""
    deadline = time.monotonic() + deadline_s
    done = 0
    while done < max_records and time.monotonic() < deadline:
        batch = consumer.poll(timeout_ms=200, max_records=max_records - done)
        for records in batch.values():
            for record in records:
                process(record)
                done += 1
        if batch:
            consumer.commit()  # the position after the last polled record: every one of them was processed
    return done


def charge_payments(consumer: Any, charge: Callable[[Any], None], *, max_records: int, deadline_s: float) -> int:
    """The repair moves the commit after the charges: it is then the loop above, charging as its processing."""
    return poll_process_commit(consumer, charge, max_records=max_records, deadline_s=deadline_s)


ANSWERS: dict[str, Any] = {"key_for": key_for, "lag": lag, "poll_loop": poll_process_commit,
                           "commit_order": charge_payments}
