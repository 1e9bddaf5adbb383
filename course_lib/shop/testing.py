"""The shop's sample histories for tests and lessons: a varied order history, and an append held open mid-
transaction (how the lesson and the tests make PostgreSQL show a gap for real)."""

from __future__ import annotations

import threading
from typing import Any

from course_lib.errors import CourseError
from course_lib.eventstore.base import EventStore
from course_lib.messages import Event
from course_lib.shop.events import (
    OrderCancelled,
    OrderCreated,
    OrderItemAdded,
    OrderItemRemoved,
    OrderPaid,
    OrderSubmitted,
)


def seed_shop_history(store: EventStore, orders: int = 8) -> int:
    """Append a small but varied shop history (adds, removals, submissions, payments, cancellations)."""
    for o in range(orders):
        oid = f"o{o}"
        events: list[Event] = [OrderCreated(order_id=oid, customer_id=f"c{o % 3}")]
        events += [OrderItemAdded(order_id=oid, sku=f"sku{k}", quantity=k + 1, unit_price_cents=100 * (o + 1))
                   for k in range(2)]
        if o % 4 == 1:
            events.append(OrderItemRemoved(order_id=oid, sku="sku0"))
        total = sum((k + 1) * 100 * (o + 1) for k in range(2)) - (100 * (o + 1) if o % 4 == 1 else 0)
        if o % 2 == 0:
            events.append(OrderSubmitted(order_id=oid, total_cents=total))
            if o % 3 == 0:
                events.append(OrderPaid(order_id=oid, amount_cents=total, payment_id=f"p{o}"))
            elif o % 3 == 2:
                events.append(OrderCancelled(order_id=oid, reason="changed mind"))
        store.append(f"order-{oid}", events)
    return store.last_position()


class HeldAppend:
    """Append one ``OrderCreated`` in a thread and hold its transaction open — its position taken, not committed.

    Needs a store whose ``append`` takes ``in_transaction`` (the SQL backends). ``finish()`` lets it commit (or
    roll back, with ``fail=True``). This is how the lesson and the tests make PostgreSQL show a gap for real.
    """

    def __init__(self, store: Any, order_id: str, *, fail: bool = False, timeout: float = 20.0) -> None:
        self.inserted = threading.Event()
        self.release = threading.Event()
        self.error: BaseException | None = None
        self.position = 0

        def hold(conn: Any, envelopes: list[Any]) -> None:
            self.position = envelopes[-1].metadata.position
            self.inserted.set()
            self.release.wait(timeout)  # bounded: the transaction never stays open longer than this
            if fail:
                raise RuntimeError("the append's transaction fails and rolls back")

        def run() -> None:
            try:
                store.append(f"order-{order_id}", [OrderCreated(order_id=order_id, customer_id="slow")],
                             in_transaction=hold)
            except RuntimeError as exc:
                self.error = exc

        self.thread = threading.Thread(target=run, name=f"held-append-{order_id}", daemon=True)
        self.thread.start()
        if not self.inserted.wait(timeout):
            raise CourseError(f"the held append of {order_id!r} never inserted its row within {timeout}s")

    def finish(self, timeout: float = 10.0) -> None:
        """Let the transaction end (commit, or roll back when ``fail``) and wait for the thread."""
        self.release.set()
        self.thread.join(timeout)
