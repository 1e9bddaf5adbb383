"""Reference solutions for notebook 05 (RabbitMQ routing). Keys match ``course_lib.exercises.nb05.CHECKS``."""

from __future__ import annotations

from typing import Any

# order.item.* matches both item events (exactly one word after "item"); the other two need their exact keys.
INVENTORY_KEYS = ["order.item.*", "order.cancelled", "payment.declined"]

ANSWERS: dict[str, Any] = {"inventory_bindings": INVENTORY_KEYS}
