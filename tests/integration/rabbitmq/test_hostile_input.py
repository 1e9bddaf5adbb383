"""Nothing that arrives stops the RabbitMQ ``Worker``, and a worker that stops on its own says why.

Each hostile message is published with raw pika, as another producer would, followed by a canary: the hostile one
must end in ``<queue>.dlq`` with the reason, the canary must be handled, and the worker must still be running.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pika
import pytest

from course_lib.errors import WorkerFailed
from course_lib.messages import envelope, to_bytes
from course_lib.messaging.rabbitmq import (
    Delivery,
    Publisher,
    RabbitConnection,
    RetryPolicy,
    Topology,
    Worker,
    close_connection,
    consume,
    dead_letter_queue,
    passive_depth,
    retry_topology,
)
from course_lib.shop.events import OrderCreated
from course_lib.waiting import wait_until
from course_lib.widgets.failure_panel import FailurePanel
from tests.integration.rabbitmq.foreign_producer import RawField, publish_raw

pytestmark = pytest.mark.rabbitmq
POLICY = RetryPolicy((0.05,))


def _order(order_id: str) -> bytes:
    return to_bytes(envelope(OrderCreated(order_id=order_id, customer_id="c")))


def _fails_on_fail(delivery: Delivery) -> None:
    if delivery.message.order_id.startswith("fail"):  # type: ignore[attr-defined]
        raise ValueError(f"cannot handle {delivery.message.order_id}")  # type: ignore[attr-defined]


def _wait_for_canary_and_one_dead_letter(worker: Worker) -> None:
    wait_until(lambda: (worker.stats.processed, worker.stats.dead_lettered) == (1, 1) or not worker.running,
               timeout=15, what="the canary handled and the hostile message dead-lettered")
    assert worker.running, f"the worker stopped: {worker.error!r}"
    assert (worker.stats.processed, worker.stats.dead_lettered) == (1, 1)


def _x_death(queue: str, count: object) -> list[dict[str, object]]:
    # the shape RabbitMQ writes, with a count no broker would write; "queue" names our own delay queue, so a
    # RabbitMQ 3.x that dead-letters the retried copy would try to add 1 to it
    return [{"count": count, "queue": POLICY.delay_queue(queue, 0), "reason": "expired", "exchange": ""}]


HOSTILE: dict[str, Callable[[str], tuple[bytes, pika.BasicProperties]]] = {
    "retry count is text": lambda q: (_order("fail-1"), pika.BasicProperties(headers={"x-retry-count": "abc"})),
    "retry count is binary": lambda q: (_order("fail-2"),
                                        pika.BasicProperties(headers={"x-retry-count": b"\xff\x00"})),
    "retry count is a table": lambda q: (_order("fail-3"),
                                         pika.BasicProperties(headers={"x-retry-count": {"n": 1}})),
    "x-death count is text": lambda q: (_order("fail-4"),
                                        pika.BasicProperties(headers={"x-death": _x_death(q, "many")})),
    "x-death is a string": lambda q: (_order("fail-5"), pika.BasicProperties(headers={"x-death": "garbage"})),
    "x-death holds no tables": lambda q: (_order("fail-6"), pika.BasicProperties(headers={"x-death": [1, None]})),
    "x-death count is a decimal": lambda q: (_order("fail-10"), pika.BasicProperties(
        headers={"x-death": _x_death(q, Decimal("0.5"))})),
    "CC names the work queue": lambda q: (_order("fail-7"), pika.BasicProperties(headers={"CC": [q]})),
    "body with a 5000-digit number": lambda q: (b'{"n": ' + b"7" * 5000 + b"}", pika.BasicProperties()),
    "body nested 100000 deep": lambda q: (b"[" * 100_000, pika.BasicProperties()),
    "body not UTF-8": lambda q: (b"\xff\xfe{\x00", pika.BasicProperties(content_type="application/json")),
    "non-UTF-8 content-encoding and ids": lambda q: (_order("fail-8"), pika.BasicProperties(
        content_encoding=b"\xff\xfe", message_id=b"\xc3\x28", type=b"\xa0\xa1", correlation_id=b"\xf0")),
    "header tables nested 2000 deep": lambda q: (_order("fail-11"), pika.BasicProperties(
        headers={"deep": RawField.nested_table(2_000)})),
    "timestamp header beyond year 9999": lambda q: (_order("fail-9"), pika.BasicProperties(
        headers={"sent": RawField.timestamp(2**63 + 5), "nested": {"at": RawField.timestamp(2**62)}})),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_hostile_message_is_dead_lettered_with_its_reason_and_the_worker_goes_on(
        case: str, conn: RabbitConnection, declared: Callable[[Topology], Topology],
        unique_name: Callable[[str], str]) -> None:
    q = unique_name("hostile")
    declared(retry_topology(q, POLICY))
    body, properties = HOSTILE[case](q)
    with Worker(q, _fails_on_fail, retry=POLICY, prefetch=5) as worker:
        publish_raw(conn, q, body, properties)
        Publisher(conn).publish(envelope(OrderCreated(order_id="canary", customer_id="c")), q)
        _wait_for_canary_and_one_dead_letter(worker)
    parked = consume(conn, dead_letter_queue(q), max_messages=2, timeout=5, idle=0.5, decode_envelopes=False)
    assert len(parked) == 1 and parked[0].body == body  # the body travels unchanged
    assert parked[0].headers["x-last-error"]  # with the reason
    assert passive_depth(conn, q).ready == 0


def test_a_handler_error_whose_str_raises_is_dead_lettered(
        conn: RabbitConnection, declared: Callable[[Topology], Topology], unique_name: Callable[[str], str]) -> None:
    class Unprintable(Exception):
        def __str__(self) -> str:
            raise RuntimeError("no text for you")

    def handler(delivery: Delivery) -> None:
        if delivery.message.order_id == "bad":  # type: ignore[attr-defined]
            raise Unprintable()

    q = unique_name("unprintable")
    declared(retry_topology(q, POLICY))
    publisher = Publisher(conn)
    with Worker(q, handler, retry=POLICY) as worker:
        publisher.publish(envelope(OrderCreated(order_id="bad", customer_id="c")), q)
        publisher.publish(envelope(OrderCreated(order_id="canary", customer_id="c")), q)
        _wait_for_canary_and_one_dead_letter(worker)
    (parked,) = consume(conn, dead_letter_queue(q), max_messages=1, timeout=5)
    assert parked.headers["x-last-error"].startswith("Unprintable: <str() of this error raised RuntimeError>")


def test_a_worker_whose_queue_is_deleted_stops_and_says_why(
        conn: RabbitConnection, declared: Callable[[Topology], Topology], unique_name: Callable[[str], str]) -> None:
    q = unique_name("vanishing")
    declared(retry_topology(q, POLICY))
    worker = Worker(q, _fails_on_fail, retry=POLICY).start()
    conn.channel().queue_delete(q)  # the broker cancels the consumer: nothing will ever arrive again
    wait_until(lambda: not worker.running, timeout=10, what="the worker to notice its consumer was cancelled")
    assert worker.error is not None and "cancelled the consumer" in str(worker.error)
    with pytest.raises(WorkerFailed, match="cancelled the consumer") as stopped:
        worker.stop()
    assert stopped.value.__cause__ is worker.error
    with pytest.raises(WorkerFailed):
        worker.join()  # every caller hears it, not just the first


def test_a_worker_whose_connection_is_closed_raises_the_cause_on_stop_and_the_panel_shows_it(
        conn: RabbitConnection, declared: Callable[[Topology], Topology], unique_name: Callable[[str], str]) -> None:
    q = unique_name("panel-dies")
    declared(retry_topology(q, POLICY))
    panel = FailurePanel(conn, q, POLICY)
    try:
        assert panel.status() == "running"
        close_connection(panel.worker.name, reason="operator closed it")
        wait_until(lambda: not panel.worker.running, timeout=10, what="the worker to lose its connection")
        panel.render()
        assert panel.status().startswith("stopped: ConnectionClosedByBroker")
        assert "data-status='stopped'" in panel.status_view.value
        assert "operator closed it" in panel.status_view.value
        with pytest.raises(WorkerFailed) as stopped:
            panel.worker.stop()
        assert isinstance(stopped.value.__cause__, pika.exceptions.ConnectionClosedByBroker)
        panel.kill_consumer()  # "kill consumer" replaces a dead worker too, and keeps why it died
        assert panel.status() == "running" and panel.failures[0].startswith("ConnectionClosedByBroker")
        panel.send(3)
        wait_until(lambda: panel.counts()["orders_done"] == 3, timeout=10, what="the new worker to take over")
    finally:
        panel.stop()
