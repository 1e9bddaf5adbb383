"""Kafka: course_lib's producer and group worker vs. raw kafka-python doing the same work, side by side.

Both sides use the same settings: ``acks=all``, idempotent producer, 200-byte records, a 3-partition topic;
consumption is in a consumer group with a manual commit after every polled batch (at-least-once). The group join
(≈3 s on Tansu) is not timed: the clock starts at the first record, so the ratio compares the clients' per-record
work, not the broker's rebalance protocol.
"""

from __future__ import annotations

import threading
import time
import uuid
from functools import cache

from kafka import KafkaConsumer, KafkaProducer

from benchmarks.runner import Case, Group, Measurement
from course_lib.config import get_settings
from course_lib.kafka_probe import is_tansu
from course_lib.messaging.kafka import GroupWorker, Producer, Record, Topics
from course_lib.messaging.kafka.settings import CONSUMER_DEFAULTS, PRODUCER_DEFAULTS
from course_lib.waiting import wait_until

PAYLOAD = b"x" * 200
PARTITIONS = 3


def _count(quick: bool) -> int:
    return 2_000 if quick else 100_000


def _bootstrap() -> str:
    return get_settings().kafka_bootstrap_servers


@cache
def _join_settings() -> dict[str, int]:
    """Tansu holds a group join for session_timeout/2: a 2 s session makes the (untimed) join of each consume run
    1 s instead of 3 s, so quick mode can afford more runs. Apache Kafka refuses sessions under 6 s by default."""
    return {"session_timeout_ms": 2_000, "heartbeat_interval_ms": 400} if is_tansu(_bootstrap()) else {}


def _fresh_topic(prefix: str) -> str:
    name = f"bench-{prefix}-{uuid.uuid4().hex[:8]}"
    with Topics(_bootstrap()) as topics:
        topics.create(name, PARTITIONS)
    return name


def _drop(*names: str) -> None:
    with Topics(_bootstrap()) as topics:
        topics.delete(*names)


def _produce_course_lib(quick: bool) -> Measurement:
    topic, n = _fresh_topic("produce"), _count(quick)
    producer = Producer(_bootstrap())
    try:
        start = time.perf_counter()
        for i in range(n):
            producer.send_bytes(topic, PAYLOAD, key=f"k{i % 1000}")
        producer.flush()
        elapsed = time.perf_counter() - start
    finally:
        producer.close()
        _drop(topic)
    return Measurement(n, elapsed)


def _produce_raw(quick: bool) -> Measurement:
    topic, n = _fresh_topic("produce"), _count(quick)
    producer = KafkaProducer(bootstrap_servers=_bootstrap(), **PRODUCER_DEFAULTS)
    try:
        start = time.perf_counter()
        for i in range(n):
            producer.send(topic, value=PAYLOAD, key=f"k{i % 1000}".encode())
        producer.flush()
        elapsed = time.perf_counter() - start
    finally:
        producer.close()
        _drop(topic)
    return Measurement(n, elapsed)


_filled: dict[bool, str] = {}


def _filled_topic(quick: bool) -> str:
    """One topic per size, filled once and read by every consume run (each in a new group)."""
    if quick not in _filled:
        topic = _fresh_topic("consume")
        producer = KafkaProducer(bootstrap_servers=_bootstrap(), **PRODUCER_DEFAULTS)
        for i in range(_count(quick)):
            producer.send(topic, value=PAYLOAD, key=f"k{i % 1000}".encode())
        producer.flush()
        producer.close()
        _filled[quick] = topic
    return _filled[quick]


def _consume_course_lib(quick: bool) -> Measurement:
    topic, n = _filled_topic(quick), _count(quick)
    group = f"bench-{uuid.uuid4().hex[:8]}"
    first: list[float] = []
    last: list[float] = []
    seen = [0]

    def handle(record: Record) -> None:
        if not first:
            first.append(time.perf_counter())
        seen[0] += 1
        if seen[0] == n:
            last.append(time.perf_counter())  # timed in the handler, so the polling below adds nothing

    worker = GroupWorker(topic, group, handle, bootstrap=_bootstrap(), name="bench", max_poll_records=500,
                         **_join_settings())
    worker.start()
    try:
        wait_until(lambda: last or worker.error, timeout=120, what=f"{n} records consumed")
        elapsed = last[0] - first[0]
    finally:
        worker.stop()
        with Topics(_bootstrap()) as topics:
            topics.delete_group(group)
    return Measurement(n, elapsed)


def _consume_raw_thread(quick: bool) -> Measurement:
    """The raw loop in a background thread, as GroupWorker runs it: the same shape of work."""
    result: list[Measurement] = []
    thread = threading.Thread(target=lambda: result.append(_consume_raw(quick)))
    thread.start()
    thread.join(180)
    return result[0]


def _consume_raw(quick: bool) -> Measurement:
    topic, n = _filled_topic(quick), _count(quick)
    group = f"bench-{uuid.uuid4().hex[:8]}"
    consumer = KafkaConsumer(topic, bootstrap_servers=_bootstrap(), group_id=group, max_poll_records=500,
                             **{**CONSUMER_DEFAULTS, **_join_settings()})
    seen = 0
    start: float | None = None
    end = time.perf_counter()
    deadline = time.monotonic() + 120
    try:
        while seen < n and time.monotonic() < deadline:
            batch = consumer.poll(timeout_ms=100)
            for records in batch.values():
                for _record in records:
                    if start is None:
                        start = time.perf_counter()
                    seen += 1
                    if seen == n:
                        end = time.perf_counter()
            if batch:
                consumer.commit()
        elapsed = end - (start or end)
    finally:
        consumer.close(autocommit=False)
        with Topics(_bootstrap()) as topics:
            topics.delete_group(group)
    return Measurement(seen, elapsed)


def _cleanup_note() -> None:
    # The consume topics live for the process; they are deleted at exit so the broker stays tidy.
    import atexit

    atexit.register(lambda: _drop(*_filled.values()) if _filled else None)


GROUPS = [
    Group(
        name="kafka.produce",
        unit="records",
        cases=[Case("course_lib", _produce_course_lib), Case("raw kafka-python", _produce_raw)],
        baseline="raw kafka-python",
        target=0.9,
        notes="200-byte records, acks=all, idempotent, 3 partitions; timed until flush() returns.",
    ),
    Group(
        name="kafka.consume_group",
        unit="records",
        cases=[Case("course_lib", _consume_course_lib), Case("raw kafka-python", _consume_raw_thread),
               Case("raw kafka-python, caller's thread", _consume_raw, in_quick=False)],
        baseline="raw kafka-python",
        target=0.9,
        notes="one group member, commit after each polled batch; timed from the first record (join excluded). "
              "GroupWorker polls in a background thread, so the baseline runs the raw loop in one too; the third "
              "case (full runs only) shows what the thread itself costs.",
        setup=_cleanup_note,
        warmup=0,  # every run joins a new group and starts cold anyway; the join is not timed
    ),
]
