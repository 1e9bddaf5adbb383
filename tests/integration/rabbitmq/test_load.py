"""The paced publisher and consumer against the real broker: rates, prefetch as a bound, nacks from a full queue."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from course_lib.errors import ServiceUnavailable
from course_lib.messaging.rabbitmq import Queue, RabbitConnection, Topology, passive_depth
from course_lib.messaging.rabbitmq.load import PacedConsumer, PacedPublisher
from course_lib.waiting import wait_until


def test_a_slow_consumer_holds_at_most_its_prefetch_and_the_rest_waits_ready(
        conn: RabbitConnection, declared: Callable[[Topology], Topology], unique_name: Callable[[str], str],
        rabbitmq_url: str) -> None:
    queue = unique_name("load-slow")
    declared(Topology(queues=[Queue(queue)]))
    publisher = PacedPublisher(queue, 200, url=rabbitmq_url, limit=60).start()
    consumer = PacedConsumer(queue, 0, url=rabbitmq_url, prefetch=5, keep_bodies=True).start()  # stalled
    try:
        wait_until(lambda: publisher.done, timeout=20, what="60 confirmed")
        wait_until(lambda: len(consumer.held) == 5 and passive_depth(conn, queue).ready == 55, timeout=20,
                   what="5 held by the consumer, 55 ready")
        assert consumer.acked == 0 and consumer.max_held == 5
        consumer.set_rate(500)
        wait_until(lambda: consumer.acked == 60, timeout=20, what="all 60 acked once the consumer speeds up")
        assert consumer.bodies == [f"m{i}".encode() for i in range(60)]
    finally:
        publisher.stop()
        consumer.stop()
    assert passive_depth(conn, queue).ready == 0


def test_reject_publish_nacks_slow_the_adaptive_publisher_and_lose_nothing(
        conn: RabbitConnection, declared: Callable[[Topology], Topology], unique_name: Callable[[str], str],
        rabbitmq_url: str) -> None:
    queue = unique_name("load-full")
    declared(Topology(queues=[Queue(queue, arguments={"x-max-length": 5, "x-overflow": "reject-publish"})]))
    # The consumer stalls until the first nack: a publisher that waits for each confirm may not outrun a consumer
    # at 100/s on a busy machine, and then the queue would never fill.
    consumer = PacedConsumer(queue, 0, url=rabbitmq_url, prefetch=5, keep_bodies=True).start()
    publisher = PacedPublisher(queue, 400, url=rabbitmq_url, adaptive=True, limit=120, body_size=32).start()
    try:
        wait_until(lambda: publisher.nacked > 0, timeout=30, what="the first nack (5 held, 5 in the queue)")
        confirmed_before_the_nack = publisher.confirmed
        consumer.set_rate(100)
        wait_until(lambda: publisher.done and consumer.acked == 120, timeout=30, what="120 published and consumed")
    finally:
        publisher.stop()
        consumer.stop()
    assert confirmed_before_the_nack == 10  # 5 held unacked by the consumer, 5 ready: the queue's limit
    assert publisher.rates[0] == 400 / 2  # the first nack halved the rate
    assert publisher.adaptive is not None and publisher.adaptive.rate > min(publisher.rates)  # acks gave some back
    assert [b.rstrip(b".") for b in consumer.bodies] == [f"m{i}".encode() for i in range(120)]
    assert all(len(b) == 32 for b in consumer.bodies)


def test_a_broker_that_is_not_there_fails_start_with_the_fix() -> None:
    with pytest.raises(ServiceUnavailable):
        PacedPublisher("nowhere", 1, url="amqp://guest:guest@127.0.0.1:1/").start()
