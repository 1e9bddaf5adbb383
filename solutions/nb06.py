"""Reference solutions for notebook 06 (RabbitMQ reliability). Keys match ``course_lib.exercises.nb06.CHECKS``."""

from __future__ import annotations

from collections.abc import Callable
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




def retry_route(headers: dict[str, Any] | None, delay_queues: list[str], dead_letter_queue: str) -> str:
    """The next delay queue, or the dead-letter queue: retries so far = expiries of our delay queues."""
    deaths = (headers or {}).get("x-death") or []
    retries = sum(int(d.get("count", 1)) for d in deaths
                  if d.get("reason") == "expired" and d.get("queue") in delay_queues)
    if retries < len(delay_queues):
        return delay_queues[retries]
    return dead_letter_queue


def make_on_payment(charge: Callable[[bytes], None]) -> Callable[..., None]:
    """Ack only after the charge succeeded; a failed charge goes back to the broker to be delivered again."""

    def on_payment(channel: Any, method: Any, properties: Any, body: bytes) -> None:
        try:
            charge(body)
        except Exception:
            channel.basic_nack(method.delivery_tag, requeue=True)  # the broker keeps it: retried, not lost
            return
        channel.basic_ack(method.delivery_tag)

    return on_payment


ANSWERS: dict[str, Any] = {"retry_route": retry_route, "swallowing_callback": make_on_payment,
                           "idempotent_payments": PaymentTotals}
