"""The outbox relay to Kafka: keyed by stream, so each stream's order survives relay crashes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from course_lib.labs.outbox_chaos import CountingConsumer, kill_relay_repeatedly, verdict
from course_lib.messaging.kafka.admin import Topics
from course_lib.messaging.kafka.consumer import read_topic
from course_lib.outbox import KafkaPublisher, SQLiteOutbox
from tests.integration.outbox.shop_writes import write_orders


def test_relay_to_kafka_keeps_order_per_stream(tmp_path: Path, kafka_bootstrap: str,
                                              unique_name: Callable[[str], str]) -> None:
    topic = unique_name("outbox")
    topics = Topics(kafka_bootstrap)
    topics.create(topic, partitions=3)
    try:
        db = tmp_path / "shop.db"
        written = write_orders(db, 12)
        publisher = KafkaPublisher(topic, kafka_bootstrap)
        try:
            stats = kill_relay_repeatedly(lambda: SQLiteOutbox(db), publisher, seed=5, crash_probability=0.1)
        finally:
            publisher.close()
        records = read_topic(topic, kafka_bootstrap, timeout=10)
        consumer = CountingConsumer(tmp_path / "consumer.db")
        per_stream: dict[str, list[int]] = {}
        for record in records:
            env = record.envelope()
            assert record.key == env.metadata.stream_id
            consumer.receive(env)
            per_stream.setdefault(record.key or "", []).append(env.metadata.stream_version or 0)
        result = verdict(written, consumer.effects())
        consumer.close()
        assert stats.crashes > 0
        assert result.ok, result
        for versions in per_stream.values():  # duplicates may repeat a version, never go back past a newer one
            first_seen = list(dict.fromkeys(versions))
            assert first_seen == sorted(first_seen)
    finally:
        topics.delete(topic)
        topics.close()
