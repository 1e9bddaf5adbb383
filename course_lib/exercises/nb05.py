"""Notebook 05's exercise: bind the inventory service's queue so it receives exactly the events it needs.

Inventory reserves stock when items are added, releases it when items are removed, when an order is cancelled,
and when a payment is declined — and wants nothing else from the ``shop`` topic exchange. The learner answers
with a list of binding keys. The check routes every shop event's key through them: offline with the AMQP topic
rules (``topic_matches``), or on the real broker when given a connection.
"""

from __future__ import annotations

import uuid
from typing import Any

from course_lib.exercises import Check, CheckResult, Hints, exercise, not_attempted, solved, wrong
from course_lib.messages import envelope, routing_key
from course_lib.messaging.rabbitmq import (
    Binding,
    Exchange,
    Publisher,
    Queue,
    RabbitConnection,
    Topology,
    consume,
    declare,
    delete_topology,
    topic_matches,
)
from course_lib.shop.events import ALL_EVENTS

WANTED = frozenset({"order.item.added", "order.item.removed", "order.cancelled", "payment.declined"})
ALL_KEYS = tuple(routing_key(event) for event in ALL_EVENTS)
HINTS = Hints(
    concept="A topic exchange compares each message's routing key with the queue's binding keys, word by word "
            "(words are separated by dots): `*` stands for exactly one word, `#` for any number of words, also "
            "none. A queue gets a message when any one of its bindings matches.",
    approach="Write down the four routing keys inventory needs. Look for the narrowest pattern that covers "
             "several of them and nothing else the shop sends; a key that shares no such pattern is bound exactly. "
             "A pattern broader than needed floods inventory with events it must then ignore.",
    skeleton="inventory_keys = [\"<one pattern for the events that share their first words>\", "
             "\"<an exact key>\", \"<an exact key>\"]",
)


def _received_offline(keys: list[str]) -> set[str]:
    return {key for key in ALL_KEYS if any(topic_matches(pattern, key) for pattern in keys)}


def _received_on_broker(keys: list[str], conn: RabbitConnection) -> set[str]:
    suffix = uuid.uuid4().hex[:8]
    exchange, queue = f"nb05-check-{suffix}", f"nb05-check-{suffix}"
    topology = Topology([Exchange(exchange, "topic")], [Queue(queue)], [Binding(exchange, queue, k) for k in keys])
    declare(conn, topology)
    try:
        publisher = Publisher(conn, exchange, mandatory=False)
        for event in ALL_EVENTS:
            data = {name: (1 if field.annotation is int else "x") for name, field in event.model_fields.items()}
            publisher.publish(envelope(event(**data)), routing_key(event))
        return {d.routing_key for d in consume(conn, queue, max_messages=len(ALL_EVENTS), timeout=3, idle=0.5)}
    finally:
        delete_topology(conn, topology)


@exercise("nb05.inventory_bindings", title="bind a queue to exactly the events a service needs", level="★",
          minutes=8, hints=HINTS)
def check_inventory_bindings(keys: Any, conn: RabbitConnection | None = None) -> CheckResult:
    """Do these binding keys deliver exactly the inventory service's events? (``conn``: test on the broker)."""
    if keys is None:
        return not_attempted("set `inventory_keys` to a list of binding keys")
    if isinstance(keys, str):
        keys = [keys]
    if not isinstance(keys, list | tuple | set) or not all(isinstance(k, str) for k in keys):
        return wrong(f"expected a list of strings, got {keys!r}")
    keys = [k.strip() for k in keys]
    got = _received_on_broker(keys, conn) if conn is not None else _received_offline(keys)
    missing, extra = sorted(WANTED - got), sorted(got - WANTED)
    where = "on the broker" if conn is not None else "by the topic rules"
    if not missing and not extra:
        return solved(f"{keys} deliver exactly {sorted(WANTED)} ({where})")
    parts = []
    if missing:
        parts.append(f"missing {missing}")
    if extra:
        parts.append(f"also receives {extra}")
    return wrong(f"your bindings ({where}): " + "; ".join(parts))


CHECKS: dict[str, Check] = {"inventory_bindings": check_inventory_bindings}
