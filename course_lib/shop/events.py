"""The shop's events. Money is in integer cents so JSON round-trips are exact.

Routing keys follow from the names (``OrderItemAdded`` → ``order.item.added``), which makes ``order.*`` versus
``order.#`` a real difference in the RabbitMQ lesson.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from course_lib.messages import Event, registry


@registry.register
class OrderCreated(Event):
    order_id: str
    customer_id: str


@registry.register
class OrderItemAdded(Event):
    order_id: str
    sku: str
    quantity: int = Field(gt=0)
    unit_price_cents: int = Field(ge=0)


@registry.register
class OrderItemRemoved(Event):
    order_id: str
    sku: str


@registry.register
class OrderSubmitted(Event):
    order_id: str
    total_cents: int = Field(ge=0)


@registry.register
class OrderPaid(Event):
    order_id: str
    amount_cents: int = Field(ge=0)
    payment_id: str


@registry.register
class OrderShipped(Event):
    order_id: str
    tracking_number: str


@registry.register
class OrderDelivered(Event):
    order_id: str


@registry.register
class OrderCancelled(Event):
    order_id: str
    reason: str


@registry.register
class StockReserved(Event):
    order_id: str
    sku: str
    quantity: int = Field(gt=0)


@registry.register
class StockReleased(Event):
    order_id: str
    sku: str
    quantity: int = Field(gt=0)


@registry.register
class PaymentCharged(Event):
    order_id: str
    payment_id: str
    amount_cents: int = Field(ge=0)


@registry.register
class PaymentDeclined(Event):
    order_id: str
    reason: str


@registry.register
class PaymentRefunded(Event):
    order_id: str
    payment_id: str
    amount_cents: int = Field(ge=0)


@registry.register
class ShipmentCreated(Event):
    order_id: str
    tracking_number: str


@registry.register
class NotificationSent(Event):
    order_id: str
    channel: str
    text: str


ORDER_EVENTS: tuple[type[Event], ...] = (
    OrderCreated, OrderItemAdded, OrderItemRemoved, OrderSubmitted, OrderPaid, OrderShipped, OrderDelivered,
    OrderCancelled,
)
ALL_EVENTS: tuple[type[Event], ...] = (
    *ORDER_EVENTS, StockReserved, StockReleased, PaymentCharged, PaymentDeclined, PaymentRefunded,
    ShipmentCreated, NotificationSent,
)

SAMPLES: dict[str, dict[str, Any]] = {  # one valid payload per event type, for tests and examples
    "OrderCreated": {"order_id": "o1", "customer_id": "c1"},
    "OrderItemAdded": {"order_id": "o1", "sku": "mug", "quantity": 2, "unit_price_cents": 1250},
    "OrderItemRemoved": {"order_id": "o1", "sku": "mug"},
    "OrderSubmitted": {"order_id": "o1", "total_cents": 2500},
    "OrderPaid": {"order_id": "o1", "amount_cents": 2500, "payment_id": "p1"},
    "OrderShipped": {"order_id": "o1", "tracking_number": "T1"},
    "OrderDelivered": {"order_id": "o1"},
    "OrderCancelled": {"order_id": "o1", "reason": "changed mind — «ünïcødé» ✓"},
    "StockReserved": {"order_id": "o1", "sku": "mug", "quantity": 2},
    "StockReleased": {"order_id": "o1", "sku": "mug", "quantity": 2},
    "PaymentCharged": {"order_id": "o1", "payment_id": "p1", "amount_cents": 2500},
    "PaymentDeclined": {"order_id": "o1", "reason": "card declined"},
    "PaymentRefunded": {"order_id": "o1", "payment_id": "p1", "amount_cents": 2500},
    "ShipmentCreated": {"order_id": "o1", "tracking_number": "T1"},
    "NotificationSent": {"order_id": "o1", "channel": "email", "text": "Your order shipped ✓"},
}
