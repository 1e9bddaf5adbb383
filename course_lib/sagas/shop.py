"""The shop's order saga: reserve inventory → charge payment → create shipment → notify the customer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from course_lib.domain.services import Shop
from course_lib.sagas.definition import SagaDefinition, Step, StepContext

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
