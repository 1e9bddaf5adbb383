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


def produce_raw(bootstrap: str, topic: str, records: list[ForeignRecord]) -> None:
    """Send ``records`` in order to partition 0 of ``topic`` and wait until the broker has every one."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    try:
        futures = [producer.send(topic, value=r.value, key=r.key, headers=list(r.headers), partition=0)
                   for r in records]
        producer.flush(timeout=10)
        for future in futures:
            future.get(timeout=10)
    finally:
        producer.close(timeout=10)


def read_raw(bootstrap: str, topic: str, count: int, *, start: int = 0, timeout: float = 10.0) -> list[Any]:
    """kafka-python's own ``ConsumerRecord``s of partition 0 from offset ``start``, until ``count`` or ``timeout``."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                             fetch_max_wait_ms=100)
    try:
        partition = TopicPartition(topic, 0)
        consumer.assign([partition])
        consumer.seek(partition, start)
        records: list[Any] = []
        deadline = time.monotonic() + timeout
        while len(records) < count and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=200).values():
                records.extend(batch)
        return records
    finally:
        consumer.close(autocommit=False)
