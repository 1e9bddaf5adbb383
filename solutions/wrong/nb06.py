"""Wrong answers to notebook 06's exercise."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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




def route_off_by_one(headers: dict[str, Any] | None, delay_queues: list[str], dead_letter_queue: str) -> str:
    deaths = (headers or {}).get("x-death") or []
    retries = sum(int(d["count"]) for d in deaths if d["reason"] == "expired" and d["queue"] in delay_queues)
    if retries + 1 < len(delay_queues):  # parks one retry early
        return delay_queues[retries]
    return dead_letter_queue


def route_first_entry_count(headers: dict[str, Any] | None, delay_queues: list[str], dead_letter_queue: str) -> str:
    deaths = (headers or {}).get("x-death") or []
    retries = int(deaths[0]["count"]) if deaths else 0  # the newest entry only
    return delay_queues[retries] if retries < len(delay_queues) else dead_letter_queue


def route_number_of_entries(headers: dict[str, Any] | None, delay_queues: list[str], dead_letter_queue: str) -> str:
    retries = len((headers or {}).get("x-death") or [])  # every entry, whatever queue, and no counts
    return delay_queues[retries] if retries < len(delay_queues) else dead_letter_queue


def route_all_counts(headers: dict[str, Any] | None, delay_queues: list[str], dead_letter_queue: str) -> str:
    retries = sum(int(d["count"]) for d in (headers or {}).get("x-death") or [])  # other queues count too
    return delay_queues[retries] if retries < len(delay_queues) else dead_letter_queue


def route_any_reason(headers: dict[str, Any] | None, delay_queues: list[str], dead_letter_queue: str) -> str:
    deaths = (headers or {}).get("x-death") or []
    retries = sum(int(d["count"]) for d in deaths if d["queue"] in delay_queues)  # a rejection is no retry
    return delay_queues[retries] if retries < len(delay_queues) else dead_letter_queue


def route_skips_a_delay(headers: dict[str, Any] | None, delay_queues: list[str], dead_letter_queue: str) -> str:
    deaths = (headers or {}).get("x-death") or []
    retries = sum(int(d["count"]) for d in deaths if d["reason"] == "expired" and d["queue"] in delay_queues)
    attempt = retries + 1
    return delay_queues[attempt] if attempt < len(delay_queues) else dead_letter_queue  # the delay after next


def make_on_payment_as_given(charge: Callable[[bytes], None]) -> Callable[..., None]:
    """The notebook's broken callback, as given."""

    def on_payment(channel: Any, method: Any, properties: Any, body: bytes) -> None:
        try:
            charge(body)
        except Exception as error:
            print("charge failed:", error)
        channel.basic_ack(method.delivery_tag)
    return on_payment


def make_on_payment_ack_first(charge: Callable[[bytes], None]) -> Callable[..., None]:
    def on_payment(channel: Any, method: Any, properties: Any, body: bytes) -> None:
        channel.basic_ack(method.delivery_tag)
        charge(body)
    return on_payment


def make_on_payment_ack_in_finally(charge: Callable[[bytes], None]) -> Callable[..., None]:
    def on_payment(channel: Any, method: Any, properties: Any, body: bytes) -> None:
        try:
            charge(body)
        finally:
            channel.basic_ack(method.delivery_tag)
    return on_payment


def make_on_payment_reject_no_requeue(charge: Callable[[bytes], None]) -> Callable[..., None]:
    def on_payment(channel: Any, method: Any, properties: Any, body: bytes) -> None:
        try:
            charge(body)
        except Exception:
            channel.basic_reject(method.delivery_tag, requeue=False)  # no dead-letter exchange: dropped
            return
        channel.basic_ack(method.delivery_tag)
    return on_payment


def make_on_payment_never_acks(charge: Callable[[bytes], None]) -> Callable[..., None]:
    def on_payment(channel: Any, method: Any, properties: Any, body: bytes) -> None:
        try:
            charge(body)
        except Exception as error:
            print("charge failed:", error)
    return on_payment


def make_on_payment_nack_then_ack(charge: Callable[[bytes], None]) -> Callable[..., None]:
    def on_payment(channel: Any, method: Any, properties: Any, body: bytes) -> None:
        try:
            charge(body)
        except Exception:
            channel.basic_nack(method.delivery_tag, requeue=True)
        channel.basic_ack(method.delivery_tag)  # a second answer for the same tag
    return on_payment


WRONG = {
    "idempotent_payments": [
        Wrong("counts every delivery", CountsEverything),
        Wrong("trusts the redelivered flag", SkipsRedelivered),
        Wrong("deduplicates by order id", KeyedByOrder),
        Wrong("deduplicates by amount", KeyedByAmount),
        Wrong("deduplicates by delivery tag", KeyedByDeliveryTag),
        Wrong("memory shared by every handler", SharedMemory),
    ],
    "retry_route": [
        Wrong("off by one: parks a retry early", route_off_by_one),
        Wrong("reads the count of the newest x-death entry only", route_first_entry_count),
        Wrong("counts x-death entries, not expiries", route_number_of_entries),
        Wrong("adds up every entry, other queues too", route_all_counts),
        Wrong("counts rejections as retries", route_any_reason),
        Wrong("the wrong delay queue for the count", route_skips_a_delay),
    ],
    "swallowing_callback": [
        Wrong("as given: the failure is swallowed and acked", make_on_payment_as_given),
        Wrong("ack before the work", make_on_payment_ack_first),
        Wrong("ack in finally", make_on_payment_ack_in_finally),
        Wrong("reject without requeue and no dead-letter exchange", make_on_payment_reject_no_requeue),
        Wrong("never acks, not even a success", make_on_payment_never_acks),
        Wrong("nack, then ack the same tag", make_on_payment_nack_then_ack),
    ],
}

GIVEAWAYS = {"idempotent_payments": ("properties.message_id",),
             "retry_route": ("delay_queues[retries]", 'd.get("reason") == "expired"'),
             "swallowing_callback": ("requeue=True",)}
