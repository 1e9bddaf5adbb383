"""Notebook 10's exercise: an idempotent consumer.

The learner writes ``credit_payment(inbox, env)``: for a ``PaymentCharged`` envelope, add its amount to the
``received`` table (``order_id``, ``cents``) — exactly once per *message*, however often it is delivered. The
check delivers payments with duplicates, including two different payments for the same order (which must both
count: deduplicate by message id, not by order).
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from course_lib.clock import FixedStepClock, SequentialIds
from course_lib.domain.events import PaymentCharged
from course_lib.exercises import CheckResult, guarded, not_attempted, solved, wrong
from course_lib.messages import Envelope, envelope
from course_lib.outbox import SqliteInbox

RECEIVED_TABLE = "CREATE TABLE IF NOT EXISTS received (order_id TEXT PRIMARY KEY, cents INTEGER NOT NULL)"

_HINTS = (
    "Call inbox.handle(env, effect) with an effect(conn, env) that runs the UPDATE/INSERT on conn.",
    "In the effect: conn.execute('INSERT INTO received (order_id, cents) VALUES (?, ?) ON CONFLICT (order_id) "
    "DO UPDATE SET cents = cents + excluded.cents', (env.message.order_id, env.message.amount_cents))",
    "Deduplicate by the message id (what the inbox does), not by the order id: one order can be paid twice.",
)


def payments() -> list[Envelope[PaymentCharged]]:
    """Three distinct payments — two of them for the same order."""
    clock, ids = FixedStepClock(), SequentialIds()
    return [
        envelope(PaymentCharged(order_id="o-1", payment_id="p-1", amount_cents=1000), clock=clock, ids=ids),
        envelope(PaymentCharged(order_id="o-2", payment_id="p-2", amount_cents=250), clock=clock, ids=ids),
        envelope(PaymentCharged(order_id="o-1", payment_id="p-3", amount_cents=500), clock=clock, ids=ids),
    ]


def received(inbox: SqliteInbox) -> dict[str, int]:
    """The ``received`` table as a dict."""
    return dict(inbox.connection.execute("SELECT order_id, cents FROM received").fetchall())


@guarded
def check_credit_payment(credit_payment: Any) -> CheckResult:
    """Deliver payments with duplicates to the learner's consumer and compare the totals."""
    if credit_payment is None:
        return not_attempted("write credit_payment(inbox, env) that credits each payment exactly once", _HINTS[0])
    if not callable(credit_payment):
        return wrong(f"credit_payment must be a function, got {type(credit_payment).__name__}", _HINTS[0])
    first, second, third = payments()
    deliveries = [first, second, first, third, second, first]  # at-least-once: redeliveries happen
    with tempfile.TemporaryDirectory() as tmp:
        inbox = SqliteInbox(Path(tmp) / "consumer.db", f"billing-{uuid.uuid4().hex[:6]}")
        try:
            inbox.connection.execute(RECEIVED_TABLE)
            for env in deliveries:
                credit_payment(inbox, env)
            totals = received(inbox)
            processed = inbox.processed()
        finally:
            inbox.close()
    expected = {"o-1": 1500, "o-2": 250}
    if totals == {"o-1": 3500, "o-2": 500}:
        return wrong("every delivery was credited, duplicates included: o-1 got 3500 instead of 1500", _HINTS[0])
    if totals.get("o-1") == 1000:
        return wrong("the second payment for o-1 was dropped as if it were a duplicate", _HINTS[2])
    if totals != expected:
        return wrong(f"the received table is {totals}; expected {expected}", _HINTS[1])
    if processed != 3:
        return wrong(f"the inbox recorded {processed} message ids, expected 3: go through inbox.handle", _HINTS[0])
    return solved("six deliveries of three payments credited 1500 to o-1 and 250 to o-2: duplicates had no effect, "
                  "and a second payment for the same order was not mistaken for one")


CHECKS: dict[str, Callable[..., CheckResult]] = {"credit_payment": check_credit_payment}
