"""The choreographed order flow over a real Kafka-protocol broker (one topic, one partition)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from course_lib.domain.services import Shop
from course_lib.sagas.choreography import CheckoutRequested, ChoreographyOverKafka, shop_participants


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
