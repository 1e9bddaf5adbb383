"""Wrong answers to notebook 05's exercise."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pika

from solutions.wrong import Wrong

WRONG = {"inventory_bindings": [
    Wrong("order.# catches every order event", ["order.#", "payment.declined"]),
    Wrong("order.* is one word: the item events have two", ["order.*", "payment.declined"]),
    Wrong("only the item events", ["order.item.*"]),
    Wrong("everything", ["#"]),
    Wrong("payment.* catches charged too", ["order.item.*", "order.cancelled", "payment.*"]),
    Wrong("forgot the declined payment", ["order.item.#", "order.cancelled"]),
    Wrong("*.item.* plus a typo", ["*.item.*", "order.canceled", "payment.declined"]),
]}

GIVEAWAYS: dict[str, tuple[str, ...]] = {"inventory_bindings": ("order.item.*", "order.item.#")}


def publish_no_confirms(channel: Any, exchange: str, routing_key: str, bodies: list[bytes]) -> None:
    for body in bodies:
        channel.basic_publish(exchange, routing_key, body, properties=pika.BasicProperties(delivery_mode=2),
                              mandatory=True)


def publish_not_mandatory(channel: Any, exchange: str, routing_key: str, bodies: list[bytes]) -> None:
    channel.confirm_delivery()
    for body in bodies:
        channel.basic_publish(exchange, routing_key, body, properties=pika.BasicProperties(delivery_mode=2))


def publish_transient(channel: Any, exchange: str, routing_key: str, bodies: list[bytes]) -> None:
    channel.confirm_delivery()
    for body in bodies:
        channel.basic_publish(exchange, routing_key, body, mandatory=True)


def publish_swallows_errors(channel: Any, exchange: str, routing_key: str, bodies: list[bytes]) -> None:
    channel.confirm_delivery()
    for body in bodies:
        try:
            channel.basic_publish(exchange, routing_key, body, properties=pika.BasicProperties(delivery_mode=2),
                                  mandatory=True)
        except Exception as error:
            print("publish failed:", error)


def publish_confirms_after(channel: Any, exchange: str, routing_key: str, bodies: list[bytes]) -> None:
    for body in bodies:
        channel.basic_publish(exchange, routing_key, body, properties=pika.BasicProperties(delivery_mode=2),
                              mandatory=True)
    channel.confirm_delivery()  # too late: the messages are already out


def publish_skips_last(channel: Any, exchange: str, routing_key: str, bodies: list[bytes]) -> None:
    channel.confirm_delivery()
    for body in bodies[:-1]:
        channel.basic_publish(exchange, routing_key, body, properties=pika.BasicProperties(delivery_mode=2),
                              mandatory=True)


def _consumer(*, ack_first: bool = False, qos_after: bool = False, no_qos: bool = False, auto_ack: bool = False,
              no_ack: bool = False, swallow: bool = False, no_deadline: bool = False,
              overruns_max: bool = False) -> Callable[..., int]:
    def consume_with_acks(channel: Any, queue: str, handle: Callable[[bytes], None], *, prefetch: int,
                          max_messages: int, time_limit: float) -> int:
        if not (qos_after or no_qos):
            channel.basic_qos(prefetch_count=prefetch)
        handled = 0

        def on_message(ch: Any, method: Any, properties: Any, body: bytes) -> None:
            nonlocal handled
            if handled >= max_messages and not overruns_max:
                return
            if ack_first:
                ch.basic_ack(method.delivery_tag)
            try:
                handle(body)
            except Exception:
                if not swallow:
                    raise
            if not (ack_first or auto_ack or no_ack):
                ch.basic_ack(method.delivery_tag)
            handled += 1

        tag = channel.basic_consume(queue, on_message, auto_ack=auto_ack)
        if qos_after:
            channel.basic_qos(prefetch_count=prefetch)
        deadline = time.monotonic() + time_limit
        try:
            while handled < max_messages and (no_deadline or time.monotonic() < deadline):
                channel.connection.process_data_events(time_limit=0.1)
        finally:
            channel.basic_cancel(tag)
        return handled

    return consume_with_acks


WRONG["raw_publisher"] = [
    Wrong("no publisher confirms", publish_no_confirms),
    Wrong("not mandatory: unroutable messages vanish", publish_not_mandatory),
    Wrong("transient messages", publish_transient),
    Wrong("catches and prints the publish errors", publish_swallows_errors),
    Wrong("turns confirms on after publishing", publish_confirms_after),
    Wrong("off by one: the last body is not published", publish_skips_last),
]
WRONG["raw_consumer"] = [
    Wrong("ack before the work", _consumer(ack_first=True)),
    Wrong("auto_ack=True", _consumer(auto_ack=True)),
    Wrong("swallows the failure and acks", _consumer(swallow=True)),
    Wrong("basic_qos after basic_consume", _consumer(qos_after=True)),
    Wrong("no prefetch at all", _consumer(no_qos=True)),
    Wrong("never acks", _consumer(no_ack=True)),
    Wrong("no deadline: waits for max_messages forever", _consumer(no_deadline=True)),
    Wrong("handles what was buffered past max_messages", _consumer(overruns_max=True)),
]
GIVEAWAYS["raw_publisher"] = ("pika.BasicProperties(delivery_mode=2),\n", "mandatory=True)")
GIVEAWAYS["raw_consumer"] = ("if handled >= max_messages:\n            return",)
