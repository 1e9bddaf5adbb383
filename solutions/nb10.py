"""Reference solutions for notebook 10 (outbox and idempotency). Keys match ``course_lib.exercises.nb10.CHECKS``."""

from __future__ import annotations

from typing import Any

from course_lib.messages import Envelope
from course_lib.outbox import SQLiteInbox
from course_lib.outbox.relay import OutboxStore, Publisher


def relay_once(outbox: OutboxStore, publisher: Publisher) -> int:
    """Publish the pending rows in commit order, each marked sent only after its confirm; stop at a failure."""
    published = 0
    for row in outbox.pending():
        publisher.publish(row.envelope())  # raises when the broker does not confirm: the row stays pending
        outbox.mark_sent([row.id])
        published += 1
    return published


def credit_payment(inbox: SQLiteInbox, env: Envelope[Any]) -> None:
    """Credit a payment to its order once per message id: the inbox row and the credit commit together."""

    def credit(conn: Any, e: Envelope[Any]) -> None:
        conn.execute(
            "INSERT INTO received (order_id, cents) VALUES (?, ?) "
            "ON CONFLICT (order_id) DO UPDATE SET cents = cents + excluded.cents",
            (e.message.order_id, e.message.amount_cents),
        )

    inbox.handle(env, credit)


ANSWERS: dict[str, Any] = {"relay_once": relay_once, "credit_payment": credit_payment}
