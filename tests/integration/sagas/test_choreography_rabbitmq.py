"""The choreographed order flow over a real RabbitMQ topic exchange."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from course_lib.messages import routing_key
from course_lib.messaging.rabbitmq import RabbitConnection
from course_lib.sagas.choreography import ChoreographyOverRabbitMQ
from course_lib.shop.choreography import CheckoutRequested, shop_participants
from course_lib.shop.services import Shop


@pytest.mark.parametrize(("fault", "status"), [(None, "confirmed"), ("payment.charge", "cancelled"),
                                               ("shipping.create_shipment", "cancelled")])
def test_flow_over_rabbitmq(rabbitmq_url: str, unique_name: Callable[[str], str], fault: str | None,
                            status: str) -> None:
    shop, orders = Shop.seeded(0), {}
    if fault:
        shop.faults.fail(fault, "declined" if fault.startswith("payment") else "rejected", times=None)
    final = "OrderConfirmed" if status == "confirmed" else "OrderCancelled"
    bus = ChoreographyOverRabbitMQ(shop_participants(shop, orders), unique_name("choreo"), rabbitmq_url)
    try:
        bus.publish(CheckoutRequested(order_id="o-1", items={"mug": 2}, total_cents=2500))
        bus.pump(lambda: final in bus.seen, timeout=15)
    finally:
        bus.stop()
    assert orders["o-1"] == status
    assert shop.payment.balance("o-1") == (2500 if status == "confirmed" else 0)
    assert shop.inventory.stock["mug"] == (8 if status == "confirmed" else 10)
    assert bus.trace.hops[0].received == "CheckoutRequested"
    assert bus.seen[0] == "CheckoutRequested" and bus.seen[-1] == final


def test_transient_failure_is_redelivered_and_handled_once(rabbitmq_url: str,
                                                           unique_name: Callable[[str], str]) -> None:
    shop, orders = Shop.seeded(0), {}
    shop.faults.fail("payment.charge", "timeout", times=1)  # charged, but the handler saw an error
    bus = ChoreographyOverRabbitMQ(shop_participants(shop, orders), unique_name("choreo"), rabbitmq_url)
    try:
        bus.publish(CheckoutRequested(order_id="o-2", items={"tee": 1}, total_cents=900))
        bus.pump(lambda: "o-2" in orders, timeout=15)
    finally:
        bus.stop()
    assert orders["o-2"] == "confirmed"
    assert bus.redeliveries == 1
    assert shop.payment.charges == [("o-2", 900)]  # the redelivery replayed the charge by its key


def test_a_foreign_message_on_the_exchange_is_a_dead_letter_not_the_end_of_the_flow(
        rabbitmq_url: str, unique_name: Callable[[str], str]) -> None:
    shop, orders = Shop.seeded(0), {}
    exchange = unique_name("choreo")
    bus = ChoreographyOverRabbitMQ(shop_participants(shop, orders), exchange, rabbitmq_url)
    try:
        with RabbitConnection(rabbitmq_url, name="foreign-producer") as foreign:
            channel = foreign.channel()  # routed to inventory by its key, but not an event anybody can read
            channel.basic_publish(exchange, routing_key("CheckoutRequested"), b"\xff{not an event")
            channel.close()
        bus.publish(CheckoutRequested(order_id="o-3", items={"mug": 1}, total_cents=1200))
        bus.pump(lambda: "OrderConfirmed" in bus.seen, timeout=15)
    finally:
        bus.stop()
    assert orders == {"o-3": "confirmed"}
    (letter,) = bus.dead_letters
    assert letter.where == "inventory" and letter.body == b"\xff{not an event"
    assert letter.reason.startswith("MalformedMessage")
