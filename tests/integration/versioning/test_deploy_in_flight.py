"""Messages in flight during a deploy: old-schema messages on a real queue meet the new consumer.

Without the upcaster the new consumer parks them in the dead-letter queue with the reason (and keeps running);
with it, the same messages — redriven from the dead-letter queue — and fresh ones of the new schema are handled.
The worker decodes with the process-wide registry (as a deployed service does), so each test registers its
classes under a type name of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

import pytest

from course_lib.messages import Event, Registry, envelope, registry
from course_lib.messaging.rabbitmq import (
    Delivery,
    Publisher,
    RabbitConnection,
    RetryPolicy,
    Worker,
    consume,
    dead_letter_queue,
    declare,
    delete_topology,
    passive_depth,
    retry_topology,
)
from course_lib.versioning import rename_field
from course_lib.waiting import wait_until

pytestmark = pytest.mark.rabbitmq


class ShipmentRequestedV1(Event):
    """What last week's producer sends."""

    order_id: str
    address: str


class ShipmentRequested(Event):
    """What today's consumer expects: the field was renamed."""

    schema_version: ClassVar[int] = 2
    order_id: str
    shipping_address: str


def test_old_messages_dead_letter_without_the_upcaster_and_are_handled_with_it(
    rabbitmq_url: str, unique_name: Callable[[str], str]
) -> None:
    queue = unique_name("shipping")
    type_name = f"ShipmentRequested-{queue[-8:]}"
    old = Registry()
    old.add(ShipmentRequestedV1, name=type_name)
    registry.add(ShipmentRequested, name=type_name)  # today's code is deployed: the new class, no upcaster yet
    topology = retry_topology(queue, RetryPolicy(()))
    conn = RabbitConnection(rabbitmq_url, name="tests-versioning")
    declare(conn, topology)
    handled: list[ShipmentRequested] = []

    def ship(delivery: Delivery) -> None:
        assert isinstance(delivery.message, ShipmentRequested)
        handled.append(delivery.message)

    try:
        publisher = Publisher(conn)
        for n in range(3):
            publisher.publish(envelope(ShipmentRequestedV1(order_id=f"o{n}", address=f"{n} Elm St")), queue)

        worker = Worker(queue, ship, url=rabbitmq_url, prefetch=5).start()
        try:
            wait_until(lambda: worker.stats.dead_lettered == 3, timeout=10, what="3 old messages dead-lettered")
            assert worker.running and handled == []  # parked, not crashed
        finally:
            worker.stop()
        assert worker.stats.malformed == 3 and worker.stats.processed == 0
        parked = consume(conn, dead_letter_queue(queue), max_messages=3, timeout=5, ack=False)
        reasons = [str(d.headers["x-last-error"]) for d in parked]
        assert len(reasons) == 3
        assert all("shipping_address" in r and "Field required" in r and "Extra inputs" in r for r in reasons)

        registry.add_upcaster(type_name, 1, rename_field("address", "shipping_address", to_version=2))
        redriven = consume(conn, dead_letter_queue(queue), max_messages=3, timeout=5, decode_envelopes=False,
                           handler=lambda d: publisher.publish_body(d.body, queue, d.properties))
        publisher.publish(envelope(ShipmentRequested(order_id="o9", shipping_address="9 Oak St")), queue)
        assert len(redriven) == 3

        worker = Worker(queue, ship, url=rabbitmq_url, prefetch=5).start()
        try:
            wait_until(lambda: worker.stats.processed == 4, timeout=10, what="4 shipments handled")
        finally:
            worker.stop()
        assert sorted((m.order_id, m.shipping_address) for m in handled) == [
            ("o0", "0 Elm St"), ("o1", "1 Elm St"), ("o2", "2 Elm St"), ("o9", "9 Oak St")]
        assert worker.stats.dead_lettered == 0
        assert passive_depth(conn, queue).ready == 0 and passive_depth(conn, dead_letter_queue(queue)).ready == 0
    finally:
        delete_topology(conn, topology)
        conn.close()
