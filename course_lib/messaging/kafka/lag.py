"""Consumer lag in time: how old the oldest record a group has not yet read is.

Lag in records (``Topics.lag``) says how much work waits, not how late the group is: 40 records are 40 ms behind
on a busy topic and 40 minutes on a quiet one. Lag in **time** is the age of the record the group reads next —
its timestamp (the producer's ``CreateTime``, unless the topic uses ``LogAppendTime``) compared with now. That is
what a freshness objective ("orders are processed within 30 s") is about. A partition with no lag is 0 s behind.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from kafka import KafkaConsumer, TopicPartition

from course_lib.messaging.kafka.admin import Topics
from course_lib.messaging.kafka.errors import connect
from course_lib.waiting import wait_until


@dataclass(frozen=True)
class LagInTime:
    """One partition: records behind, the timestamp of the next record to read (None if none), and its age."""

    partition: int
    records: int
    next_timestamp_ms: int | None
    age_s: float


def lag_in_time(topics: Topics, group_id: str, topic: str, *, now_ms: int | None = None,
                timeout: float = 5.0) -> dict[int, LagInTime]:
    """Per partition of ``topic``: how many records ``group_id`` is behind, and how old the next one is."""
    lags = topics.lag(group_id, topic, timeout)
    behind = {p: lag for p, lag in lags.items() if lag.lag > 0}
    stamps: dict[int, int] = {}
    if behind:
        probe: KafkaConsumer = connect(lambda: KafkaConsumer(
            bootstrap_servers=topics.bootstrap, group_id=None, enable_auto_commit=False, fetch_max_wait_ms=100),
            topics.bootstrap)
        try:
            partitions = {p: TopicPartition(topic, p) for p in behind}
            probe.assign(list(partitions.values()))
            for p, tp in partitions.items():
                probe.seek(tp, behind[p].resumes_at)

            def all_stamped() -> bool:
                for tp, records in probe.poll(timeout_ms=100).items():
                    if records and tp.partition not in stamps:
                        stamps[tp.partition] = int(records[0].timestamp)
                        probe.pause(tp)  # one record per partition is all we need
                return len(stamps) == len(partitions)

            wait_until(all_stamped, timeout=timeout, interval=0.0, what=f"the next unread record of {topic!r}")
        finally:
            probe.close(autocommit=False)
    now = now_ms if now_ms is not None else int(time.time() * 1000)
    return {p: LagInTime(p, lag.lag, stamps.get(p), max(0.0, (now - stamps[p]) / 1000) if p in stamps else 0.0)
            for p, lag in lags.items()}
