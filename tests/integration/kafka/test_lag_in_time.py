"""Lag in records and in time against the real broker: timestamps set by the producer, offsets by a commit."""

from __future__ import annotations

import time
from collections.abc import Callable

from kafka import KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata

from course_lib.messaging.kafka import Producer, Topics


def test_the_age_of_the_next_unread_record_per_partition(
        kafka_bootstrap: str, topics: Topics, make_topic: Callable[..., str], group_id: str) -> None:
    topic = make_topic("lag-time", partitions=2)
    now_ms = int(time.time() * 1000)
    with Producer(kafka_bootstrap) as producer:
        for i in range(20):  # partition 0: one record a second over the last 20 s
            producer.send_raw(topic, f"r{i}".encode(), partition=0, timestamp_ms=now_ms - (20 - i) * 1000)
        producer.flush()
    member = KafkaConsumer(bootstrap_servers=kafka_bootstrap, group_id=group_id, enable_auto_commit=False)
    try:
        member.assign([TopicPartition(topic, 0)])
        member.commit({TopicPartition(topic, 0): OffsetAndMetadata(5, "", -1)})  # read 5, 15 to go
    finally:
        member.close(autocommit=False)
    lags = topics.lag_in_time(group_id, topic, now_ms=now_ms)
    assert lags[0].records == 15 and lags[0].next_timestamp_ms == now_ms - 15_000 and lags[0].age_s == 15.0
    assert lags[1].records == 0 and lags[1].next_timestamp_ms is None and lags[1].age_s == 0.0
