"""Reference solutions for notebook 05 (RabbitMQ routing). Keys match ``course_lib.exercises.nb05.CHECKS``."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pika

# order.item.* matches both item events (exactly one word after "item"); the other two need their exact keys.
INVENTORY_KEYS = ["order.item.*", "order.cancelled", "payment.declined"]



def publish_confirmed(channel: Any, exchange: str, routing_key: str, bodies: list[bytes]) -> None:
    """Confirms on once, then every body persistent and mandatory: a refused or unroutable message raises."""
    channel.confirm_delivery()
    for body in bodies:
        channel.basic_publish(exchange, routing_key, body, properties=pika.BasicProperties(delivery_mode=2),
                              mandatory=True)


def consume_with_acks(channel: Any, queue: str, handle: Callable[[bytes], None], *, prefetch: int,
                      max_messages: int, time_limit: float) -> int:
    """Prefetch first, ack after the work, stop at max_messages or the deadline; return how many were handled."""
    channel.basic_qos(prefetch_count=prefetch)
    handled = 0

    def on_message(ch: Any, method: Any, properties: Any, body: bytes) -> None:
        nonlocal handled
        if handled >= max_messages:
            return  # over the limit: left unacked, the broker takes it back when the consumer goes
        handle(body)
        ch.basic_ack(method.delivery_tag)
        handled += 1

    tag = channel.basic_consume(queue, on_message)
    deadline = time.monotonic() + time_limit
    try:
        while handled < max_messages and time.monotonic() < deadline:
            channel.connection.process_data_events(time_limit=min(0.1, max(0.0, deadline - time.monotonic())))
    finally:
        channel.basic_cancel(tag)
    return handled


ANSWERS: dict[str, Any] = {"inventory_bindings": INVENTORY_KEYS, "raw_publisher": publish_confirmed,
                           "raw_consumer": consume_with_acks}
