"""Reference solutions for notebook 06 (RabbitMQ reliability). Keys match ``course_lib.exercises.nb06.CHECKS``."""

from __future__ import annotations

from typing import Any

from course_lib.messaging.rabbitmq import Delivery


class PaymentTotals:
    """Adds each payment once, keyed by message id (in production: the id and the effect in one transaction)."""

    def __init__(self) -> None:
        self.total_cents = 0
        self.seen: set[str] = set()

    def handle(self, delivery: Delivery) -> None:
        message_id = str(delivery.properties.message_id)
        if message_id in self.seen:
            return
        self.seen.add(message_id)
        self.total_cents += delivery.message.amount_cents  # type: ignore[attr-defined]


ANSWERS: dict[str, Any] = {"idempotent_payments": PaymentTotals}
