"""The shop's services as choreography participants, and the events only the choreographed flow uses.

Inventory reserves stock when a checkout is requested; payment charges when stock is reserved; shipping ships when
payment is charged; notifications tell the customer when the shipment exists. Failures travel backwards as
events too: a declined payment makes inventory release the stock; a failed shipment makes payment refund, which
makes inventory release. The runners (in memory, over RabbitMQ, over Kafka) are generic:
``course_lib.sagas.choreography``.
"""

from __future__ import annotations

from pydantic import Field

from course_lib.messages import Envelope, Event, Message, registry
from course_lib.sagas.choreography import Participant
from course_lib.shop.events import (
    NotificationSent,
    OrderCancelled,
    PaymentCharged,
    PaymentDeclined,
    PaymentRefunded,
    ShipmentCreated,
)
from course_lib.shop.services import BusinessRuleViolation, Shop


@registry.register
class CheckoutRequested(Event):
    """A customer checked out: the start of the choreographed flow."""

    order_id: str
    items: dict[str, int]
    total_cents: int = Field(ge=0)


@registry.register
class ItemsReserved(Event):
    """Inventory reserved every item of an order (carries the total, which payment needs next)."""

    order_id: str
    total_cents: int = Field(ge=0)


@registry.register
class ReservationFailed(Event):
    """Inventory could not reserve the items."""

    order_id: str
    reason: str


@registry.register
class ItemsReleased(Event):
    """Inventory gave an order's reserved items back."""

    order_id: str


@registry.register
class ShipmentFailed(Event):
    """Shipping could not create the shipment."""

    order_id: str
    reason: str


@registry.register
class OrderConfirmed(Event):
    """The order went through: reserved, paid, shipped, customer told."""

    order_id: str


def shop_participants(shop: Shop, orders: dict[str, str]) -> list[Participant]:
    """The shop's services as choreography participants; ``orders`` receives each order's final status."""
    charged: dict[str, tuple[str, int]] = {}  # payment's own memory of what it charged

    def key(env: Envelope[Message]) -> str:
        return f"{env.message_id}"  # one reaction per received message: redeliveries replay, not repeat

    def inventory(env: Envelope[Message]) -> list[Event]:
        m = env.message
        if isinstance(m, CheckoutRequested):
            try:
                shop.inventory.reserve(m.order_id, dict(m.items), key=key(env))
            except BusinessRuleViolation as exc:
                return [ReservationFailed(order_id=m.order_id, reason=str(exc))]
            return [ItemsReserved(order_id=m.order_id, total_cents=m.total_cents)]
        if isinstance(m, PaymentDeclined | PaymentRefunded):
            shop.inventory.release(m.order_id, key=key(env))
            return [ItemsReleased(order_id=m.order_id)]
        return []

    def payment(env: Envelope[Message]) -> list[Event]:
        m = env.message
        if isinstance(m, ItemsReserved):
            try:
                pid = shop.payment.charge(m.order_id, m.total_cents, key=key(env))
            except BusinessRuleViolation as exc:
                return [PaymentDeclined(order_id=m.order_id, reason=str(exc))]
            charged[m.order_id] = (pid, m.total_cents)
            return [PaymentCharged(order_id=m.order_id, payment_id=pid, amount_cents=m.total_cents)]
        if isinstance(m, ShipmentFailed):
            pid, amount = charged[m.order_id]
            shop.payment.refund(m.order_id, amount, key=key(env))
            return [PaymentRefunded(order_id=m.order_id, payment_id=pid, amount_cents=amount)]
        return []

    def shipping(env: Envelope[Message]) -> list[Event]:
        m = env.message
        if isinstance(m, PaymentCharged):
            try:
                tracking = shop.shipping.create_shipment(m.order_id, key=key(env))
            except BusinessRuleViolation as exc:
                return [ShipmentFailed(order_id=m.order_id, reason=str(exc))]
            return [ShipmentCreated(order_id=m.order_id, tracking_number=tracking)]
        return []

    def notifications(env: Envelope[Message]) -> list[Event]:
        m = env.message
        if isinstance(m, ShipmentCreated):
            text = f"Order {m.order_id} is on its way: {m.tracking_number}"
            shop.notifications.send(m.order_id, text, key=key(env))
            return [NotificationSent(order_id=m.order_id, channel="email", text=text)]
        return []

    def order(env: Envelope[Message]) -> list[Event]:
        m = env.message
        if isinstance(m, NotificationSent):
            orders[m.order_id] = "confirmed"
            return [OrderConfirmed(order_id=m.order_id)]
        if isinstance(m, ReservationFailed | ItemsReleased):
            orders[m.order_id] = "cancelled"
            reason = m.reason if isinstance(m, ReservationFailed) else "payment or shipping failed"
            return [OrderCancelled(order_id=m.order_id, reason=reason)]
        return []

    return [
        Participant("inventory", (CheckoutRequested, PaymentDeclined, PaymentRefunded),
                    (ItemsReserved, ReservationFailed, ItemsReleased), inventory),
        Participant("payment", (ItemsReserved, ShipmentFailed), (PaymentCharged, PaymentDeclined, PaymentRefunded),
                    payment),
        Participant("shipping", (PaymentCharged,), (ShipmentCreated, ShipmentFailed), shipping),
        Participant("notifications", (ShipmentCreated,), (NotificationSent,), notifications),
        Participant("order", (NotificationSent, ReservationFailed, ItemsReleased), (OrderConfirmed, OrderCancelled),
                    order),
    ]
