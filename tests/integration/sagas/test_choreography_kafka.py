"""The choreographed order flow over a real Kafka-protocol broker (one topic, one partition)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from course_lib.messaging.kafka import Producer
from course_lib.sagas.choreography import ChoreographyOverKafka
from course_lib.shop.choreography import CheckoutRequested, shop_participants
from course_lib.shop.services import Shop


@pytest.mark.parametrize(("fault", "final"), [(None, "OrderConfirmed"), ("payment.charge", "OrderCancelled")])
def test_flow_over_kafka(kafka_bootstrap: str, unique_name: Callable[[str], str], fault: str | None,
                         final: str) -> None:
    shop, orders = Shop.seeded(0), {}
    if fault:
        shop.faults.fail(fault, "declined", times=None)
    shop.faults.fail("inventory.reserve", "unavailable", times=1)  # a transient error: the record is read again
    bus = ChoreographyOverKafka(shop_participants(shop, orders), unique_name("choreo"), kafka_bootstrap)
    try:
        bus.publish(CheckoutRequested(order_id="o-1", items={"mug": 2}, total_cents=2500))
        bus.pump(lambda: final in bus.seen, timeout=30)
    finally:
        bus.stop()
    assert bus.retries == 1
    assert bus.seen[0] == "CheckoutRequested" and bus.seen[-1] == final
    assert orders["o-1"] == ("confirmed" if final == "OrderConfirmed" else "cancelled")
    assert shop.inventory.stock["mug"] == (8 if final == "OrderConfirmed" else 10)
    assert shop.payment.balance("o-1") == (2500 if final == "OrderConfirmed" else 0)


def test_a_foreign_record_on_the_topic_is_a_dead_letter_not_the_end_of_the_flow(
        kafka_bootstrap: str, unique_name: Callable[[str], str]) -> None:
    shop, orders = Shop.seeded(0), {}
    topic = unique_name("choreo")
    bus = ChoreographyOverKafka(shop_participants(shop, orders), topic, kafka_bootstrap)
    try:
        with Producer(kafka_bootstrap) as foreign:
            foreign.send_bytes(topic, b"\xff{not an event", key=b"\xfe")
        bus.publish(CheckoutRequested(order_id="o-4", items={"tee": 1}, total_cents=1900))
        bus.pump(lambda: "OrderConfirmed" in bus.seen, timeout=30)
    finally:
        bus.stop()
    assert orders == {"o-4": "confirmed"}
    (letter,) = bus.dead_letters  # one, kept by the audit reader, however many participants skipped it
    assert letter.where == f"{topic}[0]@0" and letter.body == b"\xff{not an event"
    assert letter.reason.startswith("MalformedMessage")
