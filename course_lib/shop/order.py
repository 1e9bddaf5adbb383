"""The shop's ``Order`` aggregate: commands check the rules and record events; ``@handles`` methods change state.

Life cycle::

    draft --submit--> submitted --pay--> paid --ship--> shipped --deliver--> delivered
      \\________________\\______________\\--cancel--> cancelled   (not once shipped)
"""

from __future__ import annotations

from typing import Any, Literal

from course_lib.aggregates import Aggregate, DomainError, handles
from course_lib.shop.events import (
    OrderCancelled,
    OrderCreated,
    OrderDelivered,
    OrderItemAdded,
    OrderItemRemoved,
    OrderPaid,
    OrderShipped,
    OrderSubmitted,
)

Status = Literal["new", "draft", "submitted", "paid", "shipped", "delivered", "cancelled"]


class OrderRuleBroken(DomainError):
    """A command on an order broke one of its rules."""


class Order(Aggregate):
    """An order: items while it is a draft, then submitted, paid, shipped, delivered — or cancelled before shipping."""

    stream_prefix = "order"
    # Schema 2: items[sku]["unit_price_cents"] is the price of one unit. In notebook 03's story, schema 1 stored the
    # line total under that key — same shape, other meaning — so its snapshots must be discarded, not restored.
    snapshot_schema = 2

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.status: Status = "new"
        self.customer_id: str | None = None
        self.items: dict[str, dict[str, int]] = {}  # sku → {"quantity": …, "unit_price_cents": …}, replaced whole
        self.paid_cents = 0
        self.payment_id: str | None = None
        self.tracking_number: str | None = None
        self.cancel_reason: str | None = None

    # --- commands: check the rules, then record -------------------------------------------------------

    @classmethod
    def create(cls, order_id: str, customer_id: str) -> Order:
        """Start a new draft order."""
        if not order_id or not customer_id:
            raise OrderRuleBroken("an order needs an order id and a customer id")
        order = cls(order_id)
        order.record(OrderCreated(order_id=order_id, customer_id=customer_id))
        return order

    def add_item(self, sku: str, quantity: int, unit_price_cents: int) -> None:
        """Add ``quantity`` of ``sku`` (adding a sku again raises its quantity)."""
        self._require("draft", f"add {sku!r}")
        if quantity <= 0:
            raise OrderRuleBroken(f"quantity must be at least 1, got {quantity}")
        if unit_price_cents < 0:
            raise OrderRuleBroken(f"a price cannot be negative, got {unit_price_cents} cents")
        self.record(OrderItemAdded(order_id=self.id, sku=sku, quantity=quantity, unit_price_cents=unit_price_cents))

    def remove_item(self, sku: str) -> None:
        """Remove a sku from the draft."""
        self._require("draft", f"remove {sku!r}")
        if sku not in self.items:
            raise OrderRuleBroken(f"order {self.id} has no item {sku!r} to remove (it has: {sorted(self.items)})")
        self.record(OrderItemRemoved(order_id=self.id, sku=sku))

    def submit(self) -> None:
        """Submit the draft for payment."""
        self._require("draft", "submit it")
        if not self.items:
            raise OrderRuleBroken(f"order {self.id} is empty: add at least one item before submitting it")
        self.record(OrderSubmitted(order_id=self.id, total_cents=self.total_cents))

    def pay(self, amount_cents: int, payment_id: str) -> None:
        """Record the payment of the full total."""
        self._require("submitted", "pay for it")
        if amount_cents != self.total_cents:
            raise OrderRuleBroken(
                f"order {self.id} totals {self.total_cents} cents; a payment of {amount_cents} cents does not match"
            )
        self.record(OrderPaid(order_id=self.id, amount_cents=amount_cents, payment_id=payment_id))

    def ship(self, tracking_number: str) -> None:
        """Hand the paid order to the carrier."""
        if self.status in ("draft", "submitted"):
            raise OrderRuleBroken(f"order {self.id} is {self.status} but not paid: an unpaid order cannot ship")
        self._require("paid", "ship it")
        self.record(OrderShipped(order_id=self.id, tracking_number=tracking_number))

    def deliver(self) -> None:
        """The carrier delivered the order."""
        self._require("shipped", "deliver it")
        self.record(OrderDelivered(order_id=self.id))

    def cancel(self, reason: str) -> None:
        """Cancel an order that has not shipped yet."""
        if self.status in ("shipped", "delivered"):
            raise OrderRuleBroken(f"order {self.id} is already {self.status}: it can no longer be cancelled")
        if self.status == "cancelled":
            raise OrderRuleBroken(f"order {self.id} is already cancelled ({self.cancel_reason})")
        self._require(("draft", "submitted", "paid"), "cancel it")
        self.record(OrderCancelled(order_id=self.id, reason=reason))

    def _require(self, allowed: str | tuple[str, ...], action: str) -> None:
        allowed = (allowed,) if isinstance(allowed, str) else allowed
        if self.status not in allowed:
            raise OrderRuleBroken(
                f"cannot {action}: order {self.id} is {self.status}, and that needs it to be {' or '.join(allowed)}"
            )

    # --- queries on the state -------------------------------------------------------------------------

    @property
    def total_cents(self) -> int:
        return sum(line["quantity"] * line["unit_price_cents"] for line in self.items.values())

    # --- state changes: only from events --------------------------------------------------------------

    @handles(OrderCreated)
    def _created(self, event: OrderCreated) -> None:
        self.status = "draft"
        self.customer_id = event.customer_id

    @handles(OrderItemAdded)
    def _item_added(self, event: OrderItemAdded) -> None:
        line = self.items.get(event.sku)
        quantity = event.quantity if line is None else line["quantity"] + event.quantity
        # a new line, never a change to the old one: a line may be shared with the snapshot it was restored from
        self.items[event.sku] = {"quantity": quantity, "unit_price_cents": event.unit_price_cents}

    @handles(OrderItemRemoved)
    def _item_removed(self, event: OrderItemRemoved) -> None:
        self.items.pop(event.sku, None)

    @handles(OrderSubmitted)
    def _submitted(self, event: OrderSubmitted) -> None:
        self.status = "submitted"

    @handles(OrderPaid)
    def _paid(self, event: OrderPaid) -> None:
        self.status = "paid"
        self.paid_cents = event.amount_cents
        self.payment_id = event.payment_id

    @handles(OrderShipped)
    def _shipped(self, event: OrderShipped) -> None:
        self.status = "shipped"
        self.tracking_number = event.tracking_number

    @handles(OrderDelivered)
    def _delivered(self, event: OrderDelivered) -> None:
        self.status = "delivered"

    @handles(OrderCancelled)
    def _cancelled(self, event: OrderCancelled) -> None:
        self.status = "cancelled"
        self.cancel_reason = event.reason

    # --- snapshots ------------------------------------------------------------------------------------

    def snapshot_state(self) -> dict[str, Any]:
        """Everything ``apply`` built, as JSON-ready data."""
        return {
            "status": self.status, "customer_id": self.customer_id,
            "items": {sku: dict(line) for sku, line in self.items.items()},
            "paid_cents": self.paid_cents, "payment_id": self.payment_id,
            "tracking_number": self.tracking_number, "cancel_reason": self.cancel_reason,
        }

    def restore_state(self, state: dict[str, Any]) -> None:
        """The inverse of ``snapshot_state``."""
        self.status = state["status"]
        self.customer_id = state["customer_id"]
        self.items = dict(state["items"])  # the lines themselves are never changed in place (see _item_added)
        self.paid_cents = state["paid_cents"]
        self.payment_id = state["payment_id"]
        self.tracking_number = state["tracking_number"]
        self.cancel_reason = state["cancel_reason"]

    def summary(self) -> dict[str, Any]:
        """A compact view for notebooks and widgets."""
        return {"id": self.id, "version": self.version, **self.snapshot_state(), "total_cents": self.total_cents}

    def __repr__(self) -> str:
        return f"Order({self.id!r}, v{self.version}, {self.status}, {len(self.items)} skus, {self.total_cents}¢)"
