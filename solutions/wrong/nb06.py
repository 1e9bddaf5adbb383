"""Wrong answers to notebook 06's exercise."""

from __future__ import annotations

from course_lib.messaging.rabbitmq import Delivery
from solutions.wrong import Wrong


class CountsEverything:
    def __init__(self) -> None:
        self.total_cents = 0

    def handle(self, delivery: Delivery) -> None:
        self.total_cents += delivery.message.amount_cents  # type: ignore[attr-defined]


class SkipsRedelivered:
    def __init__(self) -> None:
        self.total_cents = 0

    def handle(self, delivery: Delivery) -> None:
        if not delivery.redelivered:
            self.total_cents += delivery.message.amount_cents  # type: ignore[attr-defined]


class _KeyedBy:
    def __init__(self) -> None:
        self.total_cents = 0
        self.seen: set[object] = set()

    def key(self, delivery: Delivery) -> object:
        raise NotImplementedError

    def handle(self, delivery: Delivery) -> None:
        key = self.key(delivery)
        if key not in self.seen:
            self.seen.add(key)
            self.total_cents += delivery.message.amount_cents  # type: ignore[attr-defined]


class KeyedByOrder(_KeyedBy):
    def key(self, delivery: Delivery) -> object:
        return delivery.message.order_id  # type: ignore[attr-defined]


class KeyedByAmount(_KeyedBy):
    def key(self, delivery: Delivery) -> object:
        return delivery.message.amount_cents  # type: ignore[attr-defined]


class KeyedByDeliveryTag(_KeyedBy):
    def key(self, delivery: Delivery) -> object:
        return delivery.delivery_tag  # new on every delivery


class SharedMemory:
    """Remembers ids in a class attribute: a second handler skips everything the first one saw."""

    seen: set[str] = set()  # noqa: RUF012 — the mistake on display

    def __init__(self) -> None:
        self.total_cents = 0

    def handle(self, delivery: Delivery) -> None:
        key = str(delivery.properties.message_id)
        if key not in SharedMemory.seen:
            SharedMemory.seen.add(key)
            self.total_cents += delivery.message.amount_cents  # type: ignore[attr-defined]


WRONG = {"idempotent_payments": [
    Wrong("counts every delivery", CountsEverything),
    Wrong("trusts the redelivered flag", SkipsRedelivered),
    Wrong("deduplicates by order id", KeyedByOrder),
    Wrong("deduplicates by amount", KeyedByAmount),
    Wrong("deduplicates by delivery tag", KeyedByDeliveryTag),
    Wrong("memory shared by every handler", SharedMemory),
]}

GIVEAWAYS = {"idempotent_payments": ("properties.message_id",)}
