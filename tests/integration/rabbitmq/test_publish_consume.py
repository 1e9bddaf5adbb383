"""Publishing and bounded consuming against the real broker."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from course_lib.clock import SequentialIds
from course_lib.errors import ServiceUnavailable
from course_lib.messages import envelope
from course_lib.messaging.errors import WorkerAlreadyStarted
from course_lib.messaging.rabbitmq import (
    Binding,
    Exchange,
    Publisher,
    Queue,
    QueueNotFound,
    RabbitConnection,
    Topology,
    Unroutable,
    Worker,
    close_connection,
    connect,
    consume,
    passive_depth,
)
from course_lib.shop.events import OrderCreated, OrderPaid
from course_lib.waiting import wait_until

pytestmark = pytest.mark.rabbitmq


def _queue(declared: Callable[[Topology], Topology], unique_name: Callable[[str], str]) -> tuple[str, str]:
    x, q = unique_name("x"), unique_name("q")
    declared(Topology([Exchange(x, "topic")], [Queue(q)], [Binding(x, q, "order.#")]))
    return x, q


def test_ids_travel_as_amqp_properties(conn: RabbitConnection, declared: Callable[[Topology], Topology],
                                       unique_name: Callable[[str], str]) -> None:
    x, q = _queue(declared, unique_name)
    first = envelope(OrderCreated(order_id="o1", customer_id="c1"))
    second = first.caused(OrderPaid(order_id="o1", amount_cents=500, payment_id="p1"))
    publisher = Publisher(conn, x)
    publisher.publish(first)
    publisher.publish(second)
    got = consume(conn, q, max_messages=2, timeout=3)
    assert [d.routing_key for d in got] == ["order.created", "order.paid"]
    props = got[1].properties
    assert props.message_id == str(second.message_id)
    assert props.type == "OrderPaid"
    assert props.correlation_id == str(first.message_id)
    assert props.headers["x-causation-id"] == str(first.message_id)  # the names Kafka records carry too
    assert props.headers["x-schema-version"] == 1
    assert props.delivery_mode == 2 and props.content_type == "application/json"
    assert got[1].envelope == second


def test_unroutable_publish_is_an_error_single_and_batched(
        conn: RabbitConnection, declared: Callable[[Topology], Topology], unique_name: Callable[[str], str]) -> None:
    x, q = _queue(declared, unique_name)
    publisher = Publisher(conn, x)
    with pytest.raises(Unroutable, match=r"payment\.charged"):
        publisher.publish(envelope(OrderCreated(order_id="o", customer_id="c")), "payment.charged")
    batch = [(envelope(OrderCreated(order_id=f"o{i}", customer_id="c")), "order.created") for i in range(50)]
    batch.append((envelope(OrderCreated(order_id="lost", customer_id="c")), "nobody.listens"))
    with pytest.raises(Unroutable, match=r"nobody\.listens"):
        publisher.publish_many(batch, batch_size=20)
    assert passive_depth(conn, q).ready == 50  # the routable ones all arrived


def test_batched_confirms_deliver_everything_once(conn: RabbitConnection, declared: Callable[[Topology], Topology],
                                                 unique_name: Callable[[str], str]) -> None:
    x, q = _queue(declared, unique_name)
    ids = SequentialIds()
    sent = Publisher(conn, x).publish_many(
        [envelope(OrderCreated(order_id=f"o{i}", customer_id="c"), ids=ids) for i in range(333)], batch_size=100)
    assert sent == 333
    got = consume(conn, q, max_messages=400, timeout=5, idle=0.5)
    assert sorted(int(d.properties.message_id.replace("-", ""), 16) for d in got) == list(range(1, 334))


def test_bounded_consume_returns_on_an_empty_queue(conn: RabbitConnection, declared: Callable[[Topology], Topology],
                                                   unique_name: Callable[[str], str]) -> None:
    _, q = _queue(declared, unique_name)
    assert consume(conn, q, max_messages=10, timeout=0.5) == []


def test_consuming_a_missing_queue_names_it(conn: RabbitConnection, unique_name: Callable[[str], str]) -> None:
    missing = unique_name("missing")
    with pytest.raises(QueueNotFound, match=missing):
        consume(conn, missing, max_messages=1, timeout=0.5)
    assert conn.is_alive()


def test_a_failing_handler_leaves_messages_in_the_queue_redelivered(
        conn: RabbitConnection, declared: Callable[[Topology], Topology], unique_name: Callable[[str], str]) -> None:
    x, q = _queue(declared, unique_name)
    Publisher(conn, x).publish_many([envelope(OrderCreated(order_id=f"o{i}", customer_id="c")) for i in range(3)])

    def fail_on_second(delivery: object) -> None:
        seen.append(delivery)
        if len(seen) == 2:
            raise RuntimeError("handler failed")

    seen: list[object] = []
    with pytest.raises(RuntimeError):
        consume(conn, q, max_messages=3, timeout=3, handler=fail_on_second)
    again = consume(conn, q, max_messages=3, timeout=3, idle=0.5)
    # the first one was handled and acked; the failed one and the one not yet handled came back
    assert [d.envelope.message.order_id for d in again if d.envelope] == ["o1", "o2"]  # type: ignore[attr-defined]
    assert all(d.redelivered for d in again)


def test_a_broker_that_is_down_fails_fast_naming_url_and_fix() -> None:
    started = time.monotonic()
    with pytest.raises(ServiceUnavailable) as info:
        connect("amqp://guest:guest@127.0.0.1:1/%2F")
    assert time.monotonic() - started < 5
    assert "127.0.0.1:1" in str(info.value) and "services start" in str(info.value)
    assert "guest:guest" not in str(info.value)


def test_connection_reconnects_after_it_died(conn: RabbitConnection, declared: Callable[[Topology], Topology],
                                             unique_name: Callable[[str], str]) -> None:
    _, q = _queue(declared, unique_name)
    conn.connection.close()  # as if the broker had dropped an idle notebook's connection
    assert passive_depth(conn, q).ready == 0
    assert conn.reconnects == 1


def test_a_connection_the_broker_closed_is_reopened_and_publishing_goes_on(
        rabbitmq_url: str, declared: Callable[[Topology], Topology], unique_name: Callable[[str], str]) -> None:
    x, q = _queue(declared, unique_name)
    conn = RabbitConnection(rabbitmq_url, name=unique_name("dropped"))
    publisher = Publisher(conn, x)
    publisher.publish(envelope(OrderCreated(order_id="before", customer_id="c")))
    assert close_connection(conn.name, reason="test: broker-side close")
    wait_until(lambda: not conn.is_alive(), timeout=5, what="the client to notice the close")
    publisher.publish(envelope(OrderCreated(order_id="after", customer_id="c")))  # reconnects, publishes once
    assert conn.reconnects == 1
    got = consume(conn, q, max_messages=3, timeout=3, idle=0.5)
    assert [d.envelope.message.order_id for d in got if d.envelope] == ["before", "after"]  # type: ignore[attr-defined]
    conn.close()


def test_a_worker_runs_once_like_the_kafka_worker(conn: RabbitConnection, declared: Callable[[Topology], Topology],
                                                  unique_name: Callable[[str], str]) -> None:
    _, q = _queue(declared, unique_name)
    worker = Worker(q, lambda d: None, url=conn.url, dead_letter=False).start()
    try:
        with pytest.raises(WorkerAlreadyStarted, match="create a new one"):
            worker.start()
    finally:
        worker.stop()
    with pytest.raises(WorkerAlreadyStarted, match="has stopped"):
        worker.start()
