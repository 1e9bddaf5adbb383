"""Processes killed for real: a group member without LeaveGroup, a transaction killed before its commit, and a
producer retry after a lost acknowledgement — each asserted only as far as the detected broker shows it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from course_lib.clock import FixedStepClock, SequentialIds
from course_lib.labs.kafka_crashes import (
    crash_after_processing,
    crash_before_commit,
    order_lines,
    receipts_per_input,
    take_over,
)
from course_lib.messages import envelope
from course_lib.messaging.kafka import ExactlyOnceProcessor, Producer, Topics, read_topic
from course_lib.messaging.kafka.lost_ack import WireProducer, record_batch, send_then_retry
from course_lib.shop.events import OrderItemAdded


def test_a_killed_member_makes_its_successor_wait_longer_than_a_closed_one(
        kafka_bootstrap: str, make_topic: Callable[..., str], group_id: str) -> None:
    topic = make_topic("payments", partitions=1)
    charges = [f"charge o{n}" for n in range(3)]
    with Producer(kafka_bootstrap) as producer:
        for value in charges:
            producer.send_bytes(topic, value.encode(), key=value[-2:])

    assert crash_after_processing(topic, group_id, bootstrap=kafka_bootstrap, max_messages=3) == charges
    after_crash = take_over(topic, group_id, bootstrap=kafka_bootstrap, max_messages=3)
    after_crash.consumer.close(commit=False)  # graceful: LeaveGroup sent, nothing committed
    after_close = take_over(topic, group_id, bootstrap=kafka_bootstrap, max_messages=3)
    after_close.consumer.close(commit=True)
    assert after_crash.values == after_close.values == charges  # at-least-once: nothing committed, all again
    # a dead member is noticed only when its session expires (the waits are in the message, to diagnose a failure)
    assert after_crash.waited_s > after_close.waited_s, (after_crash.waited_s, after_close.waited_s)


def test_a_transaction_killed_before_its_commit_is_redone_and_its_outside_effects_happen_twice(
        kafka_bootstrap: str, kafka_flavour: str, make_topic: Callable[..., str], group_id: str,
        topics: Topics, tmp_path: Path) -> None:
    source, sink = make_topic("orders", partitions=3), make_topic("lines", partitions=1)
    clock, ids = FixedStepClock(), SequentialIds()
    with Producer(kafka_bootstrap) as producer:
        for n in range(30):
            producer.send(source, envelope(OrderItemAdded(order_id=f"o{n}", sku="mug", quantity=1,
                                                          unit_price_cents=1250), clock=clock, ids=ids,
                                           stream_id=f"o{n}"))
    receipts = tmp_path / "receipts.txt"
    killed = crash_before_commit(source, group_id, f"{group_id}-txn", sink, receipts, bootstrap=kafka_bootstrap,
                                 max_messages=10)
    batch = int(killed.detail)  # inputs the killed process transformed (its poll returns up to 10)
    assert killed.returncode == -9 and 0 < batch <= 10

    restarted = ExactlyOnceProcessor(source, group_id, order_lines(sink, receipts),
                                     transactional_id=f"{group_id}-txn", bootstrap=kafka_bootstrap)
    while restarted.process(max_messages=100, timeout=3):
        pass
    restarted.close()
    assert sum(topics.group_offsets(group_id)[source].values()) == 30  # the group's position: past every input
    per_input = receipts_per_input(receipts)
    assert len(per_input) == 30 and list(per_input.values()).count(2) == batch  # the killed batch: transformed twice
    outputs = read_topic(sink, kafka_bootstrap, isolation_level="read_committed", max_messages=1000)
    if kafka_flavour == "tansu":
        assert len(outputs) == 30 + batch  # Tansu shows the killed transaction's records to read_committed readers
    else:
        assert len(outputs) == 30  # Apache Kafka aborted them: each output once


def test_an_idempotent_producers_retry_is_not_written_twice_but_a_new_session_is(
        kafka_bootstrap: str, make_topic: Callable[..., str]) -> None:
    topic = make_topic("lost-ack", partitions=1)
    with WireProducer(kafka_bootstrap) as wire:
        session = wire.new_session()
        first, retry = send_then_retry(wire, topic, b"idempotent", session=session)
        plain_first, plain_retry = send_then_retry(wire, topic, b"plain", session=None)
        restarted = wire.send(topic, 0, record_batch(b"o1", b"idempotent", wire.new_session()))
    values = [r.value for r in read_topic(topic, kafka_bootstrap)]
    assert first.error == "NoError" and retry.base_offset in (-1, first.base_offset)  # "already have it"
    assert values.count(b"plain") == 2 and plain_retry.base_offset == plain_first.base_offset + 1
    assert restarted.error == "NoError" and values.count(b"idempotent") == 2  # once per session, not once ever
