"""Topics, consumer-group offsets and lag (in records, and in time: the age of the next unread record).

Three offsets bound a partition, and they are easy to mix up:

- the **log-start offset**: the first record still stored (retention and ``delete_records`` move it up);
- the **log-end offset**: the offset the leader gives the next record it appends;
- the **high-water mark**: the end of what every in-sync replica has — what a ``read_uncommitted`` consumer can
  read up to. It trails the log-end offset while followers catch up; on one broker the two coincide. A
  ``read_committed`` consumer stops earlier still, at the **last stable offset** (before the first record of a
  transaction that is still open).

Lag in records is *high-water mark − where the group resumes*, as ``kafka-consumer-groups --describe`` computes it. The
group resumes at its committed offset; with no committed offset (or one below the log start, deleted by retention)
it resumes where ``auto_offset_reset`` says: the log start (``earliest``, the course's setting) or the high-water
mark (``latest``). ``kafka-consumer-groups`` prints ``-`` as the current offset and lag of such a partition.
The high-water mark comes from a fetch response (``consumer.highwater(tp)`` after a poll), not from
``end_offsets()``: Tansu answers ``end_offsets()`` wrongly when a batch holds more than one record, and the fetch
route is correct on Apache Kafka too.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError, UnknownTopicOrPartitionError

from course_lib.errors import CourseError
from course_lib.messaging.kafka.connection import connect
from course_lib.messaging.kafka.consumer import _highwaters
from course_lib.messaging.kafka.errors import TopicNotFound
from course_lib.messaging.kafka.settings import bootstrap_or_default
from course_lib.waiting import wait_until


@dataclass(frozen=True)
class TopicInfo:
    """A topic's name and partition count."""

    name: str
    partitions: int


@dataclass(frozen=True)
class PartitionLag:
    """How far a group is behind on one partition."""

    partition: int
    committed: int | None  # the group's committed offset (the next record it reads); None: nothing committed
    end: int  # the high-water mark: the end of what consumers can read (the log-end offset on one broker)
    lag: int  # records from where the group resumes up to the high-water mark
    log_start: int = 0  # the first offset still stored
    auto_offset_reset: str = "earliest"  # where the group resumes without a usable committed offset

    @property
    def resumes_at(self) -> int:
        """The offset the group reads next: its commit, or the reset position when it has none it can use."""
        return resume_offset(self.committed, self.log_start, self.end, self.auto_offset_reset)

    def shown_as(self) -> tuple[str, str]:
        """(CURRENT-OFFSET, LAG) as ``kafka-consumer-groups --describe`` prints them: ``-`` without a commit."""
        if self.committed is None:
            return "-", "-"
        return str(self.committed), str(self.end - self.committed)


def resume_offset(committed: int | None, log_start: int, end: int, auto_offset_reset: str = "earliest") -> int:
    """Where a group member starts reading a partition.

    A committed offset still in the log wins. Without one, or when retention already deleted it (below the log
    start), ``auto_offset_reset`` decides: ``earliest`` = the log start, ``latest`` = the end.
    """
    if auto_offset_reset not in ("earliest", "latest"):
        raise ValueError(f"auto_offset_reset must be 'earliest' or 'latest', got {auto_offset_reset!r} "
                         "('none' raises in the consumer instead of resuming)")
    if committed is not None and log_start <= committed <= end:
        return committed
    return log_start if auto_offset_reset == "earliest" else end


@dataclass(frozen=True)
class LagInTime:
    """Lag in time (see ``Topics.lag_in_time``) on one partition: records behind, the timestamp of the next
    record to read (None if none), and its age in seconds."""

    partition: int
    records: int
    next_timestamp_ms: int | None
    age_s: float


class Topics:
    """Create, describe and delete topics; read group offsets and lag. Create topics explicitly: auto-created
    topics get the broker's default partition count (4 on Tansu, 1 on Apache Kafka)."""

    def __init__(self, bootstrap: str | None = None) -> None:
        self.bootstrap = bootstrap_or_default(bootstrap)
        self._admin: KafkaAdminClient = connect(
            lambda: KafkaAdminClient(bootstrap_servers=self.bootstrap, client_id="course-admin"), self.bootstrap)

    def create(self, name: str, partitions: int = 1, *, exist_ok: bool = False,
               config: dict[str, str] | None = None) -> TopicInfo:
        """Create ``name`` with ``partitions`` partitions (replication factor 1: one broker here)."""
        try:
            self._admin.create_topics([NewTopic(name, partitions, 1, topic_configs=config or {})])
        except TopicAlreadyExistsError:
            if not exist_ok:
                raise CourseError(f"topic {name!r} already exists: pick another name, delete it first with "
                                  f"Topics.delete({name!r}), or pass exist_ok=True") from None
        wait_until(lambda: name in self._admin.list_topics(), timeout=10, what=f"topic {name!r} to appear")
        return self.describe(name)

    def describe(self, name: str) -> TopicInfo:
        """The topic's partition count; ``TopicNotFound`` when it does not exist."""
        described = self._admin.describe_topics([name])
        if not described or described[0].get("error_code") or not described[0].get("partitions"):
            raise TopicNotFound(name)
        return TopicInfo(name, len(described[0]["partitions"]))

    def exists(self, name: str) -> bool:
        return name in self._admin.list_topics()

    def list(self) -> list[str]:
        """Every topic name, sorted."""
        return sorted(self._admin.list_topics())

    def delete(self, *names: str) -> None:
        """Delete topics; a name that does not exist is ignored (so cleanup can run twice)."""
        present = [n for n in names if n in self._admin.list_topics()]
        if present:
            with contextlib.suppress(UnknownTopicOrPartitionError):
                self._admin.delete_topics(present, raise_errors=False)

    def delete_group(self, group_id: str) -> None:
        """Delete a consumer group and its committed offsets (ignore errors: it may have no members or offsets)."""
        # deleting a group is cleanup; a broker that refuses it leaves nothing harmful behind
        with contextlib.suppress(Exception):
            self._admin.delete_groups([group_id])

    def group_offsets(self, group_id: str) -> dict[str, dict[int, int]]:
        """Committed offsets of ``group_id`` as {topic: {partition: offset}}."""
        answer: Any = self._admin.list_group_offsets(group_id)
        offsets = answer.get(group_id, answer) if isinstance(answer, dict) else {}
        result: dict[str, dict[int, int]] = {}
        for tp, meta in offsets.items():
            if meta is not None and meta.offset >= 0:
                result.setdefault(tp.topic, {})[tp.partition] = meta.offset
        return result

    def end_offsets(self, topic: str, timeout: float = 5.0) -> dict[int, int]:
        """The high-water mark of each partition of ``topic`` (from a fetch; correct on both brokers)."""
        partitions = [TopicPartition(topic, p) for p in range(self.describe(topic).partitions)]
        # A fresh consumer each time: a high-water mark is only as new as the fetch that carried it.
        probe: KafkaConsumer = connect(lambda: KafkaConsumer(
            bootstrap_servers=self.bootstrap, group_id=None, fetch_max_wait_ms=100, enable_auto_commit=False,
            max_partition_fetch_bytes=1024), self.bootstrap)
        try:
            probe.assign(partitions)
            for tp in partitions:
                probe.seek(tp, 0)
            return _highwaters(probe, partitions, timeout)
        finally:
            probe.close(autocommit=False)

    def log_start_offsets(self, topic: str, timeout: float = 5.0) -> dict[int, int]:
        """The first offset still stored in each partition of ``topic`` (0 until retention deletes records)."""
        partitions = [TopicPartition(topic, p) for p in range(self.describe(topic).partitions)]
        probe: KafkaConsumer = connect(lambda: KafkaConsumer(
            bootstrap_servers=self.bootstrap, group_id=None, enable_auto_commit=False,
            request_timeout_ms=int(timeout * 1000)), self.bootstrap)
        try:
            starts = probe.beginning_offsets(partitions, timeout_ms=int(timeout * 1000))
        finally:
            probe.close(autocommit=False)
        return {tp.partition: int(offset) for tp, offset in starts.items()}

    def lag(self, group_id: str, topic: str, timeout: float = 5.0, *,
            auto_offset_reset: str = "earliest") -> dict[int, PartitionLag]:
        """Per partition: committed offset (None if none), high-water mark, and the records the group still has to
        read from where it resumes (see ``resume_offset``)."""
        ends = self.end_offsets(topic, timeout)
        starts = self.log_start_offsets(topic, timeout)
        committed = self.group_offsets(group_id).get(topic, {})
        lags = {}
        for p, end in ends.items():
            resumes = resume_offset(committed.get(p), starts.get(p, 0), end, auto_offset_reset)
            lags[p] = PartitionLag(p, committed.get(p), end, end - resumes, starts.get(p, 0), auto_offset_reset)
        return lags

    def lag_in_time(self, group_id: str, topic: str, *, now_ms: int | None = None,
                    timeout: float = 5.0) -> dict[int, LagInTime]:
        """Per partition: how many records ``group_id`` is behind, and how old the next one it reads is.

        Lag in records says how much work waits, not how late the group is: 40 records are 40 ms behind on a busy
        topic and 40 minutes on a quiet one. Lag in time is the age of the record the group reads next — its
        timestamp (the producer's ``CreateTime``, unless the topic uses ``LogAppendTime``) against now: what a
        freshness objective ("orders are processed within 30 s") is about. A partition with no lag is 0 s behind.
        """
        lags = self.lag(group_id, topic, timeout)
        behind = {p: lag for p, lag in lags.items() if lag.lag > 0}
        stamps: dict[int, int] = {}
        if behind:
            probe: KafkaConsumer = connect(lambda: KafkaConsumer(
                bootstrap_servers=self.bootstrap, group_id=None, enable_auto_commit=False, fetch_max_wait_ms=100),
                self.bootstrap)
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

    def close(self) -> None:
        self._admin.close()

    def __enter__(self) -> Topics:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
