"""The shop's order saga: reserve inventory → charge payment → create shipment → notify the customer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from course_lib.messages import Event
from course_lib.sagas.definition import SagaDefinition, Step, StepContext
from course_lib.sagas.log import SagaState
from course_lib.shop.events import (
    NotificationSent,
    PaymentCharged,
    PaymentDeclined,
    PaymentRefunded,
    ShipmentCreated,
    StockReleased,
    StockReserved,
)
from course_lib.shop.services import Shop

ORDER_STEPS: tuple[str, ...] = ("reserve_inventory", "charge_payment", "create_shipment", "send_notification")


def order_saga(shop: Shop, *, retries: int = 2, timeout_s: float | None = None) -> SagaDefinition:
    """The order saga against ``shop``'s services. Saga data needs ``order_id``, ``items`` and ``total_cents``."""

    def reserve(ctx: StepContext) -> Mapping[str, Any]:
        rid = shop.inventory.reserve(ctx.data["order_id"], dict(ctx.data["items"]), key=ctx.idempotency_key)
        return {"reservation_id": rid}

    def release(ctx: StepContext) -> None:
        shop.inventory.release(ctx.data["order_id"], key=ctx.idempotency_key)

    def charge(ctx: StepContext) -> Mapping[str, Any]:
        pid = shop.payment.charge(ctx.data["order_id"], int(ctx.data["total_cents"]), key=ctx.idempotency_key)
        return {"payment_id": pid}

    def refund(ctx: StepContext) -> None:
        shop.payment.refund(ctx.data["order_id"], int(ctx.data["total_cents"]), key=ctx.idempotency_key)

    def ship(ctx: StepContext) -> Mapping[str, Any]:
        return {"tracking_number": shop.shipping.create_shipment(ctx.data["order_id"], key=ctx.idempotency_key)}

    def cancel_shipment(ctx: StepContext) -> None:
        shop.shipping.cancel_shipment(ctx.data["order_id"], key=ctx.idempotency_key)

    def notify(ctx: StepContext) -> None:
        text = f"Order {ctx.data['order_id']} is on its way: {ctx.data.get('tracking_number', '?')}"
        shop.notifications.send(ctx.data["order_id"], text, key=ctx.idempotency_key)

    return SagaDefinition("order", (
        Step("reserve_inventory", reserve, release, retries, timeout_s, "release_inventory"),
        Step("charge_payment", charge, refund, retries, timeout_s, "refund_payment"),
        Step("create_shipment", ship, cancel_shipment, retries, timeout_s, "cancel_shipment"),
        Step("send_notification", notify, None, retries, timeout_s),
    ))


def order_data(
    order_id: str = "o-1", items: Mapping[str, int] | None = None, total_cents: int = 2500
) -> dict[str, Any]:
    """Saga data for one order (defaults: two mugs for 25.00)."""
    return {"order_id": order_id, "items": dict(items or {"mug": 2}), "total_cents": total_cents}


def saga_facts(state: SagaState) -> list[Event]:
    """What the saga did to the services, as events: reserved, charged or declined, shipped, notified, undone."""
    data = state.data
    order_id = str(data["order_id"])
    items: dict[str, int] = dict(data["items"])
    total = int(data["total_cents"])
    facts: list[Event] = []
    for step, outcome in state.path():
        if step == "reserve_inventory" and outcome == "succeeded":
            facts += [StockReserved(order_id=order_id, sku=s, quantity=q) for s, q in sorted(items.items())]
        elif step == "reserve_inventory" and outcome == "compensated":
            facts += [StockReleased(order_id=order_id, sku=s, quantity=q) for s, q in sorted(items.items())]
        elif step == "charge_payment" and outcome == "succeeded":
            facts.append(PaymentCharged(order_id=order_id, payment_id=str(data["payment_id"]), amount_cents=total))
        elif step == "charge_payment" and outcome == "failed":
            facts.append(PaymentDeclined(order_id=order_id, reason=state.error or "declined"))
        elif step == "charge_payment" and outcome == "compensated":
            facts.append(PaymentRefunded(order_id=order_id, payment_id=str(data.get("payment_id", "")),
                                         amount_cents=total))
        elif step == "create_shipment" and outcome == "succeeded":
            facts.append(ShipmentCreated(order_id=order_id, tracking_number=str(data["tracking_number"])))
        elif step == "send_notification" and outcome == "succeeded":
            facts.append(NotificationSent(order_id=order_id, channel="email", text="on its way"))
    return facts
