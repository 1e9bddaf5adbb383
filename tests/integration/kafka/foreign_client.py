"""Producing and reading the way a client that knows nothing of course_lib would: plain kafka-python, raw bytes."""

from __future__ import annotations

import time
from typing import Any, NamedTuple

from kafka import KafkaConsumer, KafkaProducer, TopicPartition


class ForeignRecord(NamedTuple):
    """What a foreign producer sends: any bytes (or null) as key and value, any header bytes, repeats allowed."""

    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...] = ()


class ForeignProducer:
    """A plain ``KafkaProducer`` sending to partition 0, waiting for the broker to take every record."""

    def __init__(self, bootstrap: str) -> None:
        self._producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)

    def send(self, topic: str, records: list[ForeignRecord]) -> None:
        futures = [self._producer.send(topic, value=r.value, key=r.key, headers=list(r.headers), partition=0)
                   for r in records]
        self._producer.flush(timeout=10)
        for future in futures:
            future.get(timeout=10)

    def close(self) -> None:
        self._producer.close(timeout=10)


class ForeignReader:
    """A plain ``KafkaConsumer`` on partition 0 of ``topic`` (no group); each ``read`` continues where it ended."""

    def __init__(self, bootstrap: str, topic: str, start: int = 0) -> None:
        self._consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                       fetch_max_wait_ms=100)
        partition = TopicPartition(topic, 0)
        self._consumer.assign([partition])
        self._consumer.seek(partition, start)

    def read(self, count: int, timeout: float = 10.0) -> list[Any]:
        """kafka-python's own ``ConsumerRecord``s, until ``count`` of them or ``timeout`` seconds."""
        records: list[Any] = []
        deadline = time.monotonic() + timeout
        while len(records) < count and time.monotonic() < deadline:
            for batch in self._consumer.poll(timeout_ms=200, max_records=count - len(records)).values():
                records.extend(batch)
        return records

    def close(self) -> None:
        self._consumer.close(autocommit=False)


def produce_raw(bootstrap: str, topic: str, records: list[ForeignRecord]) -> None:
    """Send ``records`` in order to partition 0 of ``topic`` with a producer of their own."""
    producer = ForeignProducer(bootstrap)
    try:
        producer.send(topic, records)
    finally:
        producer.close()


def read_raw(bootstrap: str, topic: str, count: int, *, timeout: float = 10.0) -> list[Any]:
    """The first ``count`` records of partition 0 of ``topic``, as kafka-python gives them."""
    reader = ForeignReader(bootstrap, topic)
    try:
        return reader.read(count, timeout)
    finally:
        reader.close()
