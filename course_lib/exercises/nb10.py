"""Notebook 10's exercise: an idempotent consumer whose inbox is atomic with the effect.

The learner writes ``credit_payment(inbox, env)``: for a ``PaymentCharged`` envelope, add its amount to the
``received`` table (``order_id``, ``cents``) — exactly once per *message*, however often it is delivered. The
check delivers payments with duplicates, including two different payments for the same order (which must both
count: deduplicate by message id, not by order), and makes one credit fail the first time (a trigger aborts it,
as a full disk or a crash would): the redelivery must then credit it. An inbox row committed apart from the credit
would mark that payment processed although its money never arrived.
"""

from __future__ import annotations

import sqlite3
import tempfile
import uuid
from pathlib import Path
from typing import Any

from course_lib.clock import FixedStepClock, SequentialIds
from course_lib.exercises import Check, CheckResult, Hints, exercise, not_attempted, solved, wrong
from course_lib.messages import Envelope, envelope
from course_lib.outbox import SQLiteInbox
from course_lib.shop.events import PaymentCharged

RECEIVED_TABLE = "CREATE TABLE IF NOT EXISTS received (order_id TEXT PRIMARY KEY, cents INTEGER NOT NULL)"

FAIL_ONCE = """
CREATE TABLE IF NOT EXISTS fail_once (order_id TEXT PRIMARY KEY);
CREATE TRIGGER IF NOT EXISTS fail_insert BEFORE INSERT ON received
    WHEN EXISTS (SELECT 1 FROM fail_once WHERE order_id = NEW.order_id)
    BEGIN SELECT RAISE(ABORT, 'credit failed: disk full (injected by the check)'); END;
CREATE TRIGGER IF NOT EXISTS fail_update BEFORE UPDATE ON received
    WHEN EXISTS (SELECT 1 FROM fail_once WHERE order_id = NEW.order_id)
    BEGIN SELECT RAISE(ABORT, 'credit failed: disk full (injected by the check)'); END;
"""
"""Makes every write to one order's row fail while that order is in ``fail_once`` — the check's fault injection."""

HINTS = Hints(
    concept="An idempotent consumer remembers which messages it has processed. The memory and the effect must "
            "commit together: remembered without the effect, a failed message is skipped on redelivery and its "
            "effect is lost; the effect without the memory, a redelivery applies it twice.",
    approach="Let the inbox decide: it records the message's id and runs your effect in one transaction, and does "
             "nothing for an id it has seen. Your effect adds the payment to its order's row, creating the row "
             "the first time — two payments for one order both count.",
    skeleton="def credit_payment(inbox, env):\n    def credit(conn, e):\n        conn.execute(\"INSERT INTO received "
             "... ON CONFLICT ... DO UPDATE SET ...\", (...))\n\n    inbox.handle(...)",
)


def payments() -> list[Envelope[PaymentCharged]]:
    """Three distinct payments — two of them for the same order."""
    clock, ids = FixedStepClock(), SequentialIds()
    return [
        envelope(PaymentCharged(order_id="o-1", payment_id="p-1", amount_cents=1000), clock=clock, ids=ids),
        envelope(PaymentCharged(order_id="o-2", payment_id="p-2", amount_cents=250), clock=clock, ids=ids),
        envelope(PaymentCharged(order_id="o-1", payment_id="p-3", amount_cents=500), clock=clock, ids=ids),
    ]


def received(inbox: SQLiteInbox) -> dict[str, int]:
    """The ``received`` table as a dict."""
    return dict(inbox.connection.execute("SELECT order_id, cents FROM received").fetchall())


def _deliver(credit_payment: Any, inbox: SQLiteInbox, deliveries: list[Envelope[PaymentCharged]],
             failing_once: str) -> int:
    """Deliver each envelope; the first delivery that touches ``failing_once`` fails. Returns failures seen."""
    failures = 0
    conn = inbox.connection
    conn.execute("INSERT INTO fail_once (order_id) VALUES (?)", (failing_once,))
    for env in deliveries:
        try:
            credit_payment(inbox, env)
        except sqlite3.DatabaseError as exc:  # the injected fault: the broker will redeliver this message
            if "injected by the check" not in str(exc):
                raise
            failures += 1
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            conn.execute("DELETE FROM fail_once")
    return failures


@exercise("nb10.credit_payment", title="an inbox that is atomic with the effect", level="★★", minutes=15,
          hints=HINTS)
def check_credit_payment(credit_payment: Any) -> CheckResult:
    """Deliver payments with duplicates to the learner's consumer and compare the totals."""
    if credit_payment is None:
        return not_attempted("write credit_payment(inbox, env) that credits each payment exactly once")
    if not callable(credit_payment):
        return wrong(f"credit_payment must be a function, got {type(credit_payment).__name__}")
    first, second, third = payments()
    # at-least-once: redeliveries happen; the o-2 payment fails once and is redelivered
    deliveries = [first, second, first, third, second, first]
    with tempfile.TemporaryDirectory() as tmp:
        inbox = SQLiteInbox(Path(tmp) / "consumer.db", f"billing-{uuid.uuid4().hex[:6]}")
        try:
            inbox.connection.execute(RECEIVED_TABLE)
            inbox.connection.executescript(FAIL_ONCE)
            failures = _deliver(credit_payment, inbox, deliveries, failing_once="o-2")
            totals = received(inbox)
            processed = inbox.processed()
        finally:
            inbox.close()
    expected = {"o-1": 1500, "o-2": 250}
    if failures != 1:
        return wrong(f"the injected failure of o-2's credit was seen {failures} times, expected once: write to the "
                     "received table's row of the payment's order")
    if totals.get("o-1", 0) > 1500:
        return wrong(f"the received table is {totals}: duplicate deliveries were credited again")
    if totals.get("o-1") in (1000, 500):
        return wrong(f"the received table is {totals}: one of o-1's two payments was lost — two different "
                     "payments for one order were taken for one, or the second replaced the first")
    if totals.get("o-2") is None:
        return wrong(f"the received table is {totals}: o-2's credit failed once and its redelivery was skipped — "
                     "the message was remembered as processed although its effect had rolled back")
    if totals != expected:
        return wrong(f"the received table is {totals}; expected {expected}")
    if processed != 3:
        return wrong(f"the inbox recorded {processed} message ids, expected 3: the inbox must know every message "
                     "the consumer processed")
    return solved("six deliveries of three payments credited 1500 to o-1 and 250 to o-2: duplicates had no effect, "
                  "a second payment for the same order was not mistaken for one, and a credit that failed was "
                  "applied on its redelivery")


CHECKS: dict[str, Check] = {"credit_payment": check_credit_payment}
