"""Bounded consumption for notebook cells and tests: every read stops at ``max_messages`` or ``timeout``.

Two shapes:

- ``TopicReader`` assigns itself every partition of a topic (no consumer group, so no group join and no
  rebalancing): the right tool to replay a topic from the beginning or to read what a test produced.
- ``GroupConsumer`` joins a consumer group and commits only when told to, after processing (at-least-once).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from types import TracebackType
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata

from course_lib.messages import Registry
from course_lib.messaging.kafka.connection import connect
from course_lib.messaging.kafka.errors import TopicNotFound
from course_lib.messaging.kafka.records import Record
from course_lib.messaging.kafka.settings import CONSUMER_DEFAULTS, bootstrap_or_default
from course_lib.waiting import WaitTimeout, wait_until


def _poll_bounded(consumer: KafkaConsumer, max_messages: int, timeout: float,
                  stop_when_idle: bool = False, reg: Registry | None = None) -> list[Record]:
    """Poll until ``max_messages`` records or ``timeout`` seconds, whichever comes first; with ``stop_when_idle``,
    also when a poll after the first records comes back empty (the backlog is drained)."""
    records: list[Record] = []
    deadline = time.monotonic() + timeout
    while len(records) < max_messages:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        batch = consumer.poll(timeout_ms=max(1, int(min(remaining, 0.5) * 1000)),
                              max_records=max_messages - len(records))
        if stop_when_idle and records and not batch:
            break
        for raws in batch.values():
            records.extend(Record.from_kafka(raw, reg) for raw in raws)
    return records


class TopicReader:
    """Reads every partition of ``topic`` without a group. Reuse one reader across cells: it keeps its position.

    ``registry`` decodes the records' envelopes (default: the global one), e.g. one with your own upcasters.
    """

    def __init__(self, topic: str, bootstrap: str | None = None, *, from_beginning: bool = True,
                 isolation_level: str = "read_uncommitted", registry: Registry | None = None,
                 **overrides: Any) -> None:
        self.topic = topic
        self.registry = registry
        self.bootstrap = bootstrap_or_default(bootstrap)
        config = {**CONSUMER_DEFAULTS, "isolation_level": isolation_level, **overrides}
        config.pop("session_timeout_ms"), config.pop("heartbeat_interval_ms")
        self._consumer: KafkaConsumer = connect(
            lambda: KafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None, **config), self.bootstrap)
        try:
            partitions = wait_until(lambda: self._consumer.partitions_for_topic(topic), timeout=10,
                                    what=f"metadata for topic {topic!r}")
        except WaitTimeout:
            self._consumer.close(autocommit=False)
            raise TopicNotFound(topic) from None
        self.partitions = [TopicPartition(topic, p) for p in sorted(partitions)]
        self._consumer.assign(self.partitions)
        if from_beginning:
            self.seek_to_beginning()

    def seek_to_beginning(self) -> None:
        """Start again from the first record of every partition (a replay)."""
        for tp in self.partitions:
            self._consumer.seek(tp, 0)

    def seek(self, partition: int, offset: int) -> None:
        """Continue ``partition`` from ``offset``."""
        self._consumer.seek(TopicPartition(self.topic, partition), offset)

    def read(self, max_messages: int = 100, timeout: float = 5.0) -> list[Record]:
        """Up to ``max_messages`` records, waiting at most ``timeout`` seconds."""
        return _poll_bounded(self._consumer, max_messages, timeout, reg=self.registry)

    def read_all(self, timeout: float = 5.0, max_messages: int = 1_000_000) -> list[Record]:
        """Everything up to the end of every partition (as seen now), bounded by ``timeout``."""
        records: list[Record] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(records) < max_messages:
            records.extend(self.read(max_messages - len(records), timeout=min(0.3, deadline - time.monotonic())))
            if self.at_end():
                break
        return records

    def end_offsets(self, timeout: float = 5.0) -> dict[int, int]:
        """The high-water mark of each partition, learned from a fetch (correct on Tansu, unlike end_offsets())."""
        return _highwaters(self._consumer, self.partitions, timeout)

    def at_end(self) -> bool:
        """True when every partition's position has reached its high-water mark."""
        for tp in self.partitions:
            high = self._consumer.highwater(tp)
            if high is None or self._consumer.position(tp) < high:
                return False
        return True

    def close(self) -> None:
        self._consumer.close(autocommit=False)

    def __enter__(self) -> TopicReader:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def _highwaters(consumer: KafkaConsumer, partitions: Iterable[TopicPartition], timeout: float) -> dict[int, int]:
    """Poll until a fetch response has told us every partition's high-water mark.

    Fetched records are not lost: the caller's positions are restored afterwards.
    """
    partitions = list(partitions)
    positions = {tp: consumer.position(tp) for tp in partitions}

    def known() -> bool:
        if all(consumer.highwater(tp) is not None for tp in partitions):
            return True
        consumer.poll(timeout_ms=100, max_records=1, update_offsets=False)
        return all(consumer.highwater(tp) is not None for tp in partitions)

    try:
        wait_until(known, timeout=timeout, interval=0.0, what="high-water marks from the broker")
    finally:
        for tp, position in positions.items():
            consumer.seek(tp, position)
    return {tp.partition: int(consumer.highwater(tp)) for tp in partitions}


def read_topic(topic: str, bootstrap: str | None = None, *, max_messages: int = 1000, timeout: float = 5.0,
               isolation_level: str = "read_uncommitted", registry: Registry | None = None) -> list[Record]:
    """Every record of ``topic`` from the beginning (bounded). Opens and closes its own reader."""
    with TopicReader(topic, bootstrap, isolation_level=isolation_level, registry=registry) as reader:
        return reader.read_all(timeout=timeout, max_messages=max_messages)


class GroupConsumer:
    """A member of a consumer group, polled from the caller's thread. Commits only when you call ``commit()``."""

    def __init__(self, topic: str, group_id: str, bootstrap: str | None = None, *,
                 client_id: str = "course-consumer", registry: Registry | None = None, **overrides: Any) -> None:
        self.topic = topic
        self.group_id = group_id
        self.registry = registry
        self.bootstrap = bootstrap_or_default(bootstrap)
        config = {**CONSUMER_DEFAULTS, "client_id": client_id, **overrides}
        self._consumer: KafkaConsumer = connect(
            lambda: KafkaConsumer(bootstrap_servers=self.bootstrap, group_id=group_id, **config), self.bootstrap)
        self._consumer.subscribe([topic])
        self._processed: dict[TopicPartition, int] = {}

    @property
    def raw(self) -> KafkaConsumer:
        return self._consumer

    @property
    def assignment(self) -> list[int]:
        """The partitions this member owns right now (a property, as on ``GroupWorker``)."""
        return sorted(tp.partition for tp in self._consumer.assignment())

    def wait_for_assignment(self, timeout: float = 15.0) -> list[int]:
        """Poll (buffering nothing) until the group has given this member partitions."""
        def assigned() -> list[int]:
            self._consumer.poll(timeout_ms=100, max_records=1, update_offsets=False)
            return self.assignment

        return wait_until(assigned, timeout=timeout, interval=0.0, what=f"an assignment in group {self.group_id!r}")

    def poll(self, max_messages: int = 100, timeout: float = 5.0) -> list[Record]:
        """Up to ``max_messages`` records; they count as processed for the next ``commit()``."""
        records = _poll_bounded(self._consumer, max_messages, timeout, reg=self.registry)
        for record in records:
            self._processed[TopicPartition(record.topic, record.partition)] = record.offset + 1
        return records

    def commit(self) -> dict[int, int]:
        """Commit the offsets after the records returned so far; returns {partition: committed offset}."""
        offsets = {tp: OffsetAndMetadata(offset, "", -1) for tp, offset in self._processed.items()
                   if tp in self._consumer.assignment()}
        if offsets:
            self._consumer.commit(offsets)
        self._processed.clear()
        return {tp.partition: meta.offset for tp, meta in offsets.items()}

    def close(self, *, commit: bool = False) -> None:
        """Leave the group. ``commit=False`` (default) forgets uncommitted work — like a crash would."""
        if commit:
            self.commit()
        self._consumer.close(autocommit=False)
