"""Topology as data against the real broker: idempotent declares, explained 406s, routing per exchange type."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from course_lib.errors import CourseError
from course_lib.messages import envelope, routing_key
from course_lib.messaging.rabbitmq import (
    Binding,
    Exchange,
    Publisher,
    Queue,
    QueueNotFound,
    RabbitConnection,
    Topology,
    TopologyMismatch,
    Worker,
    consume,
    declare,
    passive_depth,
)
from course_lib.shop.events import ALL_EVENTS, NotificationSent, OrderCreated

pytestmark = pytest.mark.rabbitmq


def test_declaring_twice_is_harmless(conn: RabbitConnection, declared: Callable[[Topology], Topology],
                                     unique_name: Callable[[str], str]) -> None:
    x, q = unique_name("x"), unique_name("q")
    topology = declared(Topology([Exchange(x, "topic")], [Queue(q, "quorum")], [Binding(x, q, "order.#")]))
    declare(conn, topology)
    assert passive_depth(conn, q).ready == 0


def test_redeclaring_with_other_arguments_explains_and_keeps_the_connection(
        conn: RabbitConnection, declared: Callable[[Topology], Topology], unique_name: Callable[[str], str]) -> None:
    q = unique_name("q")
    declared(Topology(queues=[Queue(q, "quorum")]))
    with pytest.raises(TopologyMismatch) as info:
        declare(conn, Topology(queues=[Queue(q, "classic")]))
    text = str(info.value)
    assert "x-queue-type" in text and "set a policy" in text and "throw its messages away" in text
    assert passive_depth(conn, q).ready == 0  # the connection still works after the 406
    assert conn.reconnects == 0


def test_each_exchange_type_routes_as_the_description_predicts(
        conn: RabbitConnection, declared: Callable[[Topology], Topology], unique_name: Callable[[str], str]) -> None:
    topic, fanout, direct, headers = (unique_name(n) for n in ("topic", "fanout", "direct", "headers"))
    created, one_level, all_orders, notify_a, notify_b, paid, email = (
        unique_name(n) for n in ("created", "one", "all", "na", "nb", "paid", "email"))
    topology = declared(Topology(
        [Exchange(topic, "topic"), Exchange(fanout, "fanout"), Exchange(direct, "direct"),
         Exchange(headers, "headers")],
        [Queue(name) for name in (created, one_level, all_orders, notify_a, notify_b, paid, email)],
        [Binding(topic, created, "order.created"), Binding(topic, one_level, "order.*"),
         Binding(topic, all_orders, "order.#"), Binding(fanout, notify_a), Binding(fanout, notify_b),
         Binding(direct, paid, "order.paid"),
         Binding(headers, email, arguments={"x-match": "all", "channel": "email"})],
    ))
    publisher = Publisher(conn, mandatory=False)
    expected: dict[str, int] = {}
    for event in ALL_EVENTS:
        key = routing_key(event)
        for exchange in (topic, direct, fanout):
            publisher.publish(envelope(OrderCreated(order_id="o", customer_id="c")), key, exchange=exchange)
            for queue in topology.route(exchange, key):
                expected[queue] = expected.get(queue, 0) + 1
    for channel in ("email", "sms"):
        publisher.publish(envelope(NotificationSent(order_id="o", channel=channel, text="hi")), "",
                          exchange=headers, headers={"channel": channel})
        for queue in topology.route(headers, "", {"channel": channel}):
            expected[queue] = expected.get(queue, 0) + 1
    order_keys = [routing_key(e) for e in ALL_EVENTS if routing_key(e).startswith("order.")]
    assert expected[created] == 1
    assert expected[one_level] == sum(1 for k in order_keys if k.count(".") == 1)
    assert expected[all_orders] == len(order_keys) > expected[one_level]
    assert expected[notify_a] == expected[notify_b] == len(ALL_EVENTS)
    assert expected[paid] == 1 and expected[email] == 1
    for queue, count in expected.items():
        assert passive_depth(conn, queue).ready == count, queue
    got = consume(conn, email, max_messages=5, timeout=2, idle=0.3)
    assert [d.headers["channel"] for d in got] == ["email"]


def test_an_exclusive_queue_lives_as_long_as_its_connection(rabbitmq_url: str,
                                                            unique_name: Callable[[str], str]) -> None:
    q = unique_name("mine")
    owner = RabbitConnection(rabbitmq_url, name="tests-exclusive-owner")
    declare(owner, Topology(queues=[Queue(q, "exclusive")]))
    assert passive_depth(owner, q).ready == 0
    owner.close()
    other = RabbitConnection(rabbitmq_url, name="tests-exclusive-other")
    with pytest.raises(QueueNotFound):
        passive_depth(other, q)
    other.close()


def test_a_worker_refuses_to_start_without_its_dead_letter_queue(
        conn: RabbitConnection, declared: Callable[[Topology], Topology], unique_name: Callable[[str], str]) -> None:
    q = unique_name("lonely")
    declared(Topology(queues=[Queue(q)]))
    with pytest.raises(CourseError, match="retry_topology"):
        Worker(q, lambda d: None).start()
