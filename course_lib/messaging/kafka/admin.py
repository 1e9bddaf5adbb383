"""Topics, consumer-group offsets and lag.

Lag is *high-water mark − committed offset* per partition. The high-water mark comes from a fetch response
(``consumer.highwater(tp)`` after a poll), not from ``end_offsets()``: Tansu answers ``end_offsets()`` wrongly when a
batch holds more than one record, and the fetch route is correct on Apache Kafka too.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError, UnknownTopicOrPartitionError

from course_lib.errors import CourseError
from course_lib.messaging.kafka.consumer import _highwaters
from course_lib.messaging.kafka.errors import connect
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
    committed: int  # the next offset the group will read (0 when it has committed nothing)
    end: int  # the high-water mark: the offset the next record will get
    lag: int


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
        """The topic's partition count; a clear error when it does not exist."""
        described = self._admin.describe_topics([name])
        if not described or described[0].get("error_code") or not described[0].get("partitions"):
            raise CourseError(f"topic {name!r} does not exist: create it with Topics.create({name!r}, partitions=N)")
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

    def lag(self, group_id: str, topic: str, timeout: float = 5.0) -> dict[int, PartitionLag]:
        """Per partition: committed offset, high-water mark and the difference."""
        ends = self.end_offsets(topic, timeout)
        committed = self.group_offsets(group_id).get(topic, {})
        return {p: PartitionLag(p, committed.get(p, 0), end, end - committed.get(p, 0)) for p, end in ends.items()}

    def close(self) -> None:
        self._admin.close()

    def __enter__(self) -> Topics:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
