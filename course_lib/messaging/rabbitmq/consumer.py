"""Bounded consuming for notebook cells and tests: at most ``max_messages``, for at most ``timeout`` seconds.

A cell that consumes "until the queue is empty" can hang forever (another producer, a wrong queue name); here a
consume always returns. Messages are acknowledged only after the handler returned, so a handler that raises
leaves its message (and any not yet handled) in the queue, marked redelivered — nothing is lost.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pika.exceptions

from course_lib.errors import CourseError
from course_lib.messaging.rabbitmq.connection import RabbitConnection
from course_lib.messaging.rabbitmq.errors import QueueNotFound
from course_lib.messaging.rabbitmq.wire import Delivery, decode, raw_delivery


def consume(
    conn: RabbitConnection,
    queue: str,
    *,
    max_messages: int = 10,
    timeout: float = 2.0,
    handler: Callable[[Delivery], object] | None = None,
    prefetch: int | None = None,
    ack: bool = True,
    idle: float | None = None,
    decode_envelopes: bool = True,
) -> list[Delivery]:
    """Receive up to ``max_messages`` from ``queue`` within ``timeout`` seconds; ack each after ``handler``.

    ``prefetch=None`` lets the broker send exactly ``max_messages`` (acks go out in one multiple-ack at the end),
    so no extra message is taken and handed back. With an explicit ``prefetch`` each message is acked as soon as it
    was handled, the way a long-running consumer works. ``ack=False`` hands everything back (a peek).
``idle`` stops early once no message arrived for that many seconds (take what is there now).
``decode_envelopes=False`` hands over the raw bytes without parsing them (for bodies that are not envelopes).
    """
    if max_messages < 1:
        raise ValueError("max_messages must be at least 1")
    channel = conn.channel()
    # AMQP caps prefetch at 65535: beyond that, ack as we go (a few extra messages may be taken and handed back)
    deferred = prefetch is None and max_messages <= 65535
    if prefetch is None and not deferred:
        prefetch = 1000
    try:
        channel.basic_qos(prefetch_count=max_messages if deferred else prefetch)
    except pika.exceptions.ChannelClosedByBroker as exc:  # pragma: no cover - qos never fails on a fresh channel
        raise CourseError(str(exc)) from exc
    received: list[Delivery] = []
    last_tag = 0
    deadline = time.monotonic() + timeout
    last_seen = time.monotonic()
    tick = min(0.2, timeout, idle if idle is not None else 0.2)  # how often the deadline is checked when idle
    try:
        for method, properties, body in channel.consume(queue, inactivity_timeout=tick):
            if method is not None and properties is not None and body is not None:
                delivery = decode(method, properties, body) if decode_envelopes else raw_delivery(
                    method, properties, body)
                try:
                    if handler is not None:
                        handler(delivery)
                except BaseException:
                    # keep what succeeded, give this one back (redelivered later, not lost); the unacked
                    # rest returns to the queue when the consumer is cancelled below
                    if ack and deferred and last_tag:
                        channel.basic_ack(last_tag, multiple=True)
                    channel.basic_nack(delivery.delivery_tag, requeue=True)
                    last_tag = 0
                    raise
                received.append(delivery)
                if ack and not deferred:
                    channel.basic_ack(delivery.delivery_tag)
                last_tag = delivery.delivery_tag
                last_seen = time.monotonic()
            now = time.monotonic()
            if len(received) >= max_messages or now >= deadline or (idle is not None and now - last_seen >= idle):
                break
        if ack and deferred and last_tag:
            channel.basic_ack(last_tag, multiple=True)
    except pika.exceptions.ChannelClosedByBroker as exc:
        if exc.reply_code == 404:
            raise QueueNotFound(queue) from exc
        raise
    finally:
        if channel.is_open:
            channel.cancel()  # unacked leftovers go back to the queue
            channel.close()
    return received


def drain(conn: RabbitConnection, queue: str, *, timeout: float = 1.0, max_messages: int = 10_000) -> list[Delivery]:
    """Consume and ack whatever is in ``queue`` now (bounded); handy to reset a demo queue."""
    return consume(conn, queue, max_messages=max_messages, timeout=timeout, prefetch=500, idle=0.3)
