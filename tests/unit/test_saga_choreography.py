"""The choreographed order flow over an in-process queue: same outcomes as the orchestrator, no orchestrator."""

from __future__ import annotations

import pytest

from course_lib.sagas.choreography import cycles, dependencies, dependency_mermaid, run_in_memory
from course_lib.shop.choreography import CheckoutRequested, shop_participants
from course_lib.shop.services import Shop

CHECKOUT = CheckoutRequested(order_id="o-1", items={"mug": 2}, total_cents=2500)


def test_happy_flow_reaches_confirmation() -> None:
    shop, orders = Shop.seeded(0), {}
    trace = run_in_memory(shop_participants(shop, orders), CHECKOUT)
    assert orders == {"o-1": "confirmed"}
    assert trace.types() == ["CheckoutRequested", "ItemsReserved", "PaymentCharged", "ShipmentCreated",
                             "NotificationSent"]
    assert shop.payment.charges == [("o-1", 2500)] and shop.inventory.stock["mug"] == 8


@pytest.mark.parametrize(("operation", "kind", "undone"), [
    ("inventory.reserve", "out_of_stock", []),
    ("payment.charge", "declined", ["ItemsReleased"]),
    ("shipping.create_shipment", "rejected", ["PaymentRefunded", "ItemsReleased"]),
])
def test_failures_travel_back_as_events(operation: str, kind: str, undone: list[str]) -> None:
    shop, orders = Shop.seeded(0), {}
    shop.faults.fail(operation, kind, times=None)  # type: ignore[arg-type]
    trace = run_in_memory(shop_participants(shop, orders), CHECKOUT)
    assert orders == {"o-1": "cancelled"}
    emitted = [e for hop in trace.hops for e in hop.emitted]
    assert [e for e in emitted if e in {"PaymentRefunded", "ItemsReleased"}] == undone
    assert shop.inventory.stock["mug"] == 10 and shop.payment.balance("o-1") == 0


def test_the_dependency_graph_has_cycles() -> None:
    participants = shop_participants(Shop.seeded(0), {})
    assert ("payment", "inventory") in dependencies(participants)
    assert ("inventory", "payment") in dependencies(participants)
    assert cycles(participants) == [("inventory", "payment"), ("payment", "shipping")]
    assert 'payment -- "PaymentDeclined, PaymentRefunded" --> inventory' in dependency_mermaid(participants)
