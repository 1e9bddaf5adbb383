"""Orders written with their outbox rows in the same transaction — the starting point of the relay tests."""

from __future__ import annotations

from pathlib import Path

from course_lib.eventstore.sqlite import SQLiteEventStore
from course_lib.outbox import SQLiteOutbox
from course_lib.shop.events import OrderCreated, OrderSubmitted


def write_orders(db: Path, orders: int) -> set[str]:
    """Append ``orders`` two-event orders through the outbox hook; return the message ids the outbox holds."""
    store, outbox = SQLiteEventStore(db), SQLiteOutbox(db)
    for n in range(orders):
        store.append(f"order-{n}", [OrderCreated(order_id=str(n), customer_id="c"),
                                    OrderSubmitted(order_id=str(n), total_cents=100 + n)], in_transaction=outbox.hook)
    written = {r.message_id for r in outbox.pending(100_000)}
    store.close()
    outbox.close()
    return written
