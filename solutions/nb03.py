"""Reference solutions for notebook 03 (aggregates and snapshots). Keys match ``course_lib.exercises.nb03.CHECKS``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from course_lib.domain.events import OrderItemAdded, OrderItemRemoved
from course_lib.messages import Event


def cart(events: Iterable[Event]) -> dict[str, int]:
    """sku → quantity, folded from the item events."""
    items: dict[str, int] = {}
    for event in events:
        if isinstance(event, OrderItemAdded):
            items[event.sku] = items.get(event.sku, 0) + event.quantity
        elif isinstance(event, OrderItemRemoved):
            items.pop(event.sku, None)
    return items


ANSWERS: dict[str, Any] = {"cart": cart}
