"""Kafka pieces that need no broker: records, headers, dead-letter headers, delivery errors, connection errors."""

from __future__ import annotations

import socket
import threading
from collections import namedtuple
from typing import Any

import pytest

from course_lib.clock import FixedStepClock, SequentialIds
from course_lib.errors import ServiceUnavailable
from course_lib.messages import RawEvent, Registry, UnknownMessageType, envelope, to_bytes
from course_lib.messaging.kafka import DeliveryFailed, Producer, Record, dead_letter_headers, envelope_headers
from course_lib.messaging.kafka.connection import connect
from course_lib.shop.events import OrderCreated

Raw = namedtuple("Raw", "topic partition offset key value headers timestamp")


def test_record_from_a_kafka_python_record_decodes_key_and_headers() -> None:
    env = envelope(OrderCreated(order_id="o1", customer_id="c1"), clock=FixedStepClock(), ids=SequentialIds())
    raw = Raw("orders", 2, 41, b"o1", to_bytes(env), [("message_type", b"OrderCreated")], 1_700_000_000_000)
    record = Record.from_kafka(raw)
    assert (record.topic, record.partition, record.offset, record.key) == ("orders", 2, 41, "o1")
    assert record.message_type == "OrderCreated"
    assert record.envelope().message == OrderCreated(order_id="o1", customer_id="c1")
    assert Record.from_kafka(Raw("t", 0, 0, None, None, None, None)).headers == {}


def test_envelope_headers_carry_type_ids_and_causation_when_there_is_one() -> None:
    clock, ids = FixedStepClock(), SequentialIds()
    first = envelope(OrderCreated(order_id="o1", customer_id="c1"), clock=clock, ids=ids)
    caused = first.caused(OrderCreated(order_id="o2", customer_id="c1"), clock=clock, ids=ids)
    assert "x-causation-id" not in envelope_headers(first)
    headers = envelope_headers(caused)
    assert headers["message_type"] == "OrderCreated"
    assert headers["correlation_id"] == str(first.message_id)
    assert headers["x-causation-id"] == str(first.message_id)  # the names RabbitMQ messages carry too
    assert headers["x-schema-version"] == "1" and "causation_id" not in headers


def test_a_record_written_with_the_old_causation_header_still_reads() -> None:
    old = Record("orders", 0, 0, "o1", b"{}", {"causation_id": "c-7"})
    new = Record("orders", 0, 1, "o1", b"{}", {"x-causation-id": "c-8", "x-schema-version": "2"})
    assert (old.causation_id, old.schema_version) == ("c-7", None)
    assert (new.causation_id, new.schema_version) == ("c-8", 2)
    assert Record("orders", 0, 2, None, b"{}", {"x-schema-version": "two"}).schema_version is None


def test_a_record_decodes_with_the_registry_of_its_reader() -> None:
    """A registry with an upcaster, handed to the reader, upgrades old records (the global one does not know it)."""
    env = envelope(OrderCreated(order_id="o1", customer_id="c1"), clock=FixedStepClock(), ids=SequentialIds())
    old = to_bytes(env).replace(b'"type":"OrderCreated"', b'"type":"OrderOpened"')
    reg = Registry()
    reg.add(OrderCreated)
    reg.add_upcaster("OrderOpened", 1, lambda raw: RawEvent("OrderCreated", 2, raw.data))
    raw = Raw("orders", 0, 0, b"o1", old, [], 0)
    assert Record.from_kafka(raw, reg).envelope().message == OrderCreated(order_id="o1", customer_id="c1")
    with pytest.raises(UnknownMessageType):
        Record.from_kafka(raw).envelope()


def test_dead_letter_headers_keep_the_original_headers_and_say_where_and_why() -> None:
    record = Record("orders", 1, 7, "o9", b"{oops", {"message_type": "OrderCreated"})
    headers = dead_letter_headers(record, ValueError("not JSON"))
    assert headers == {"message_type": "OrderCreated", "dlq.error": "not JSON", "dlq.error_type": "ValueError",
                       "dlq.original_topic": "orders", "dlq.original_partition": "1", "dlq.original_offset": "7"}


class _FailingKafkaProducer:
    """Stands in for kafka-python: every send's future fails when flushed, like an unreachable partition."""

    def __init__(self) -> None:
        self.errbacks: list[Any] = []

    def send(self, topic: str, **kwargs: Any) -> Any:
        owner = self

        class Future:
            def add_errback(self, fn: Any, *args: Any) -> None:
                owner.errbacks.append((fn, args))

        return Future()

    def flush(self, timeout: float | None = None) -> None:
        for fn, args in self.errbacks:
            fn(*args, TimeoutError("partition 0 of 'orders' has no leader"))
        self.errbacks.clear()


def test_flush_raises_delivery_failed_naming_the_error_instead_of_losing_records() -> None:
    producer = Producer.__new__(Producer)  # skip the network; the failure bookkeeping is what is tested
    producer._producer = _FailingKafkaProducer()  # type: ignore[assignment]
    producer._failures = []
    producer._failures_lock = threading.Lock()
    producer.sent = 0
    producer.send_bytes("orders", b"1")
    producer.send_bytes("orders", b"2")
    with pytest.raises(DeliveryFailed, match=r"2 record\(s\) were not delivered.*no leader") as caught:
        producer.flush()
    assert len(caught.value.failures) == 2
    assert [(r.topic, r.key) for r in caught.value.records] == [("orders", None), ("orders", None)]
    producer.flush()  # the failures were reported once; nothing pending now


def test_a_missing_broker_fails_in_seconds_with_the_url_and_the_fix() -> None:
    with socket.socket() as sock:  # a port that is certainly closed: bind, learn it, close
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    bootstrap = f"127.0.0.1:{port}"
    with pytest.raises(ServiceUnavailable) as caught:  # answered by the handshake, before any client retries
        connect(lambda: pytest.fail("must not build a client (it would retry for 30 s)"), bootstrap)
    assert bootstrap in str(caught.value) and "services start" in str(caught.value)


def test_a_group_resumes_at_its_commit_or_where_auto_offset_reset_says() -> None:
    from course_lib.messaging.kafka.admin import resume_offset

    assert resume_offset(7, log_start=0, end=10) == 7
    assert resume_offset(None, log_start=3, end=10) == 3  # earliest: the log start, not offset 0
    assert resume_offset(None, log_start=3, end=10, auto_offset_reset="latest") == 10
    assert resume_offset(1, log_start=3, end=10) == 3  # the commit was deleted by retention: reset applies
    with pytest.raises(ValueError, match="earliest"):
        resume_offset(None, 0, 1, "none")


def test_lag_without_a_commit_counts_from_the_log_start_and_shows_dashes_like_the_cli() -> None:
    from course_lib.messaging.kafka import PartitionLag

    never = PartitionLag(0, None, end=10, lag=7, log_start=3)
    assert never.resumes_at == 3 and never.shown_as() == ("-", "-")
    assert PartitionLag(1, 4, 10, 6).shown_as() == ("4", "6")
