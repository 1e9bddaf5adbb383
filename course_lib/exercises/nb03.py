"""Notebook 03's exercise: rebuild state by folding events — the items in an order's cart.

The learner writes ``cart(events) -> dict[str, int]`` (sku → quantity) from ``OrderItemAdded`` and
``OrderItemRemoved`` events, ignoring the others. The check compares it with the ``Order`` aggregate on several
histories, including one where a sku is added twice and one where it is removed and added again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from course_lib.domain.events import OrderCreated, OrderItemAdded, OrderItemRemoved, OrderSubmitted
from course_lib.domain.order import Order
from course_lib.exercises import CheckResult, guarded, not_attempted, solved, wrong
from course_lib.messages import Event

_HINTS = (
    "Start from an empty dict and loop over the events in order; the result only ever changes inside the loop.",
    "OrderItemAdded adds its quantity to whatever the sku already had (dict.get(sku, 0) + quantity).",
    "OrderItemRemoved removes the sku entirely; other event types change nothing in the cart.",
)


def _add(sku: str, quantity: int) -> OrderItemAdded:
    return OrderItemAdded(order_id="o1", sku=sku, quantity=quantity, unit_price_cents=100)


HISTORIES: list[list[Event]] = [
    [OrderCreated(order_id="o1", customer_id="c1")],
    [OrderCreated(order_id="o1", customer_id="c1"), _add("mug", 2), _add("tea", 1)],
    [OrderCreated(order_id="o1", customer_id="c1"), _add("mug", 2), _add("mug", 3), _add("tea", 1)],
    [OrderCreated(order_id="o1", customer_id="c1"), _add("mug", 2), OrderItemRemoved(order_id="o1", sku="mug"),
     _add("tea", 4), _add("mug", 1), OrderSubmitted(order_id="o1", total_cents=500)],
]


def expected_cart(events: list[Event]) -> dict[str, int]:
    """What the Order aggregate says the cart holds after ``events``."""
    order = Order.rehydrate("o1", events)
    return {sku: line["quantity"] for sku, line in order.items.items()}


@guarded
def check_cart(cart: Any) -> CheckResult:
    """Compare the learner's fold with the Order aggregate on several histories."""
    if cart is None:
        return not_attempted("write cart(events) -> dict[str, int]", _HINTS[0])
    if not callable(cart):
        return wrong(f"cart must be a function, got {type(cart).__name__}", _HINTS[0])
    for number, history in enumerate(HISTORIES, start=1):
        expected = expected_cart(history)
        got = cart(list(history))
        if got != expected:
            names = ", ".join(type(e).__name__ for e in history)
            hint = _HINTS[2] if any(isinstance(e, OrderItemRemoved) for e in history) else _HINTS[1]
            return wrong(f"history {number} ({names}): expected {expected}, got {got!r}", hint)
    return solved(f"your fold agrees with the Order aggregate on all {len(HISTORIES)} histories")


CHECKS: dict[str, Callable[..., CheckResult]] = {"cart": check_cart}
