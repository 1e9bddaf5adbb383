"""Notebook 10's exercises: the outbox relay loop (build), and an inbox that forgets a failed credit (find the bug).

**The relay** — ``relay_once(outbox, publisher)`` publishes every pending outbox row in commit order, marks each row
sent only once its publish returned (the broker confirmed it), stops the round at the first failed publish, and
returns how many rows it published. The check runs it against a real ``SQLiteOutbox`` and a broker stand-in that
refuses one message's confirm during the first round: a row marked sent before its confirm is lost, a relay that
carries on past the failure publishes a stream's later event before its earlier one, a relay that marks the
batch only at the end leaves confirmed rows pending (published again next round).

**The inbox** — ``credit_payment(inbox, env)``: for a ``PaymentCharged`` envelope, add its amount to the
``received`` table (``order_id``, ``cents``) — exactly once per *message*, however often it is delivered. The
notebook hands over a check-then-act version (the inbox row commits on its own, before the credit) to repair. The
check delivers payments with duplicates, including two different payments for the same order (which must both
count: deduplicate by message id, not by order), and makes one credit fail the first time (a trigger aborts it,
as a full disk or a crash would): the redelivery must then credit it. An inbox row committed apart from the credit
would mark that payment processed although its money never arrived.
"""

from __future__ import annotations

import sqlite3
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from course_lib import sql
from course_lib.clock import FixedStepClock, SequentialIds
from course_lib.exercises import Check, CheckResult, Hints, exercise, not_attempted, solved, wrong
from course_lib.messages import Envelope, envelope
from course_lib.outbox import SQLiteInbox, SQLiteOutbox
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

FAIL_INBOX_ONCE = """
CREATE TABLE IF NOT EXISTS fail_inbox_once (message_id TEXT PRIMARY KEY);
CREATE TRIGGER IF NOT EXISTS fail_inbox BEFORE INSERT ON inbox
    WHEN EXISTS (SELECT 1 FROM fail_inbox_once WHERE message_id = NEW.message_id)
    BEGIN SELECT RAISE(ABORT, 'inbox write failed: disk full (injected by the check)'); END;
"""
"""Makes recording one message id in the inbox fail while it is in ``fail_inbox_once``: a crash after the effect."""

FIND_THE_BUG = ("check_credit_payment",)
"""The checks whose exercise hands the learner a broken component to repair."""

HINTS = Hints(
    concept="An idempotent consumer remembers which messages it has processed. The memory and the effect must "
            "commit together: remembered without the effect, a failed message is skipped on redelivery and its "
            "effect is lost; the effect without the memory, a redelivery applies it twice.",
    approach="Find the moment the given version remembers the message for good, and ask what happens when the "
             "credit fails right after it. Then let the inbox do both: it records the message's id and runs your "
             "effect in one transaction, and does nothing for an id it has seen. Your effect only adds the payment "
             "to its order's row — with the connection it is given.",
    skeleton="def credit_payment(inbox, env):\n    def credit(conn, e):\n"
             "        conn.execute(...)  # the credit only\n\n    inbox.handle(...)",
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


@dataclass(frozen=True)
class FailedCreditRun:
    """What seven deliveries of three payments, with two injected failures, left behind."""

    totals: dict[str, int]
    processed: int
    failures: int

    @property
    def lost(self) -> list[str]:
        """The orders whose money never arrived."""
        return [order for order in ("o-1", "o-2") if order not in self.totals]


def deliver_with_a_failed_credit(credit_payment: Any) -> FailedCreditRun:
    """Deliver three payments seven times (at-least-once) to ``credit_payment``, with two failures injected.

    o-2's first credit fails (a trigger aborts the write, as a full disk would), and recording the third payment's
    id in the inbox fails the first time (as a crash right after the credit would). Each failed message is
    delivered again later. This is the notebook's demonstration and the check's run.
    """
    first, second, third = payments()
    deliveries = [first, second, first, third, second, first, third]
    with tempfile.TemporaryDirectory() as tmp:
        inbox = SQLiteInbox(Path(tmp) / "consumer.db", f"billing-{uuid.uuid4().hex[:6]}")
        try:
            conn = inbox.connection
            conn.execute(RECEIVED_TABLE)
            conn.executescript(FAIL_ONCE + FAIL_INBOX_ONCE)
            conn.execute("INSERT INTO fail_once (order_id) VALUES (?)", (second.message.order_id,))
            conn.execute("INSERT INTO fail_inbox_once (message_id) VALUES (?)", (str(third.message_id),))
            failures = _deliver(credit_payment, inbox, deliveries)
            return FailedCreditRun(received(inbox), inbox.processed(), failures)
        finally:
            inbox.close()


def _deliver(credit_payment: Any, inbox: SQLiteInbox, deliveries: list[Envelope[PaymentCharged]]) -> int:
    """Deliver each envelope; an injected fault fails its delivery once. Returns how many deliveries failed."""
    failures = 0
    conn = inbox.connection
    for env in deliveries:
        try:
            credit_payment(inbox, env)
        except sqlite3.DatabaseError as exc:  # the injected fault: the broker will redeliver this message
            if "injected by the check" not in str(exc):
                raise
            failures += 1
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            table = "fail_once" if str(exc).startswith("credit") else "fail_inbox_once"
            conn.execute(f"DELETE FROM {table}")
    return failures


@exercise("nb10.credit_payment", title="repair an inbox that commits before the effect", level="★★", minutes=10,
          hints=HINTS)
def check_credit_payment(credit_payment: Any) -> CheckResult:
    """Deliver payments with duplicates to the learner's consumer, one credit failing once; compare the totals."""
    if credit_payment is None:
        return not_attempted("repair credit_payment(inbox, env) so that it credits each payment exactly once, then "
                             "pass it to the check")
    if not callable(credit_payment):
        return wrong(f"credit_payment must be a function, got {type(credit_payment).__name__}")
    run = deliver_with_a_failed_credit(credit_payment)
    totals, expected = run.totals, {"o-1": 1500, "o-2": 250}
    if totals.get("o-1") == 2000:
        return wrong(f"the received table is {totals}: o-1's second payment was credited twice. Its first delivery "
                     "failed after the credit had committed, before the message was remembered, so the redelivery "
                     "credited it again")
    if totals.get("o-1", 0) > 1500:
        return wrong(f"the received table is {totals}: duplicate deliveries were credited again")
    if totals.get("o-1") in (1000, 500):
        return wrong(f"the received table is {totals}: one of o-1's two payments was lost — two different "
                     "payments for one order were taken for one, the second replaced the first, or a payment was "
                     "remembered as processed although its credit never committed")
    if totals.get("o-2") is None:
        return wrong(f"the received table is {totals}: o-2's credit failed once and its redelivery was skipped — "
                     "the message was remembered as processed although its effect had rolled back")
    if totals != expected:
        return wrong(f"the received table is {totals}; expected {expected}")
    if run.failures != 2:
        return wrong(f"{run.failures} of the two injected failures (a credit, then recording a message id in the "
                     "inbox) were seen: the consumer must credit the order's row in the received table and record "
                     "each message's id in the inbox table")
    if run.processed != 3:
        return wrong(f"the inbox recorded {run.processed} message ids, expected 3: the inbox must know every message "
                     "the consumer processed")
    return solved("seven deliveries of three payments credited 1500 to o-1 and 250 to o-2: duplicates had no "
                  "effect, a second payment for the same order was not mistaken for one, a credit that failed was "
                  "applied on its redelivery, and a message whose id could not be recorded was not credited twice")


class BrokerRefused(Exception):
    """The broker stand-in did not confirm a message (a nack, a timeout): the publish failed."""


class _RetryStorm(BaseException):
    """Raised past ``except Exception`` when a relay retries a refused publish over and over in one round."""


class ConfirmingBroker:
    """A broker stand-in with publisher confirms: ``publish`` returns once the message is stored, raises if not.

    ``refuse(message_id)`` makes every publish of that message fail until ``recover()``: the confirm never comes.
    """

    def __init__(self) -> None:
        self.stored: list[str] = []  # message ids, in the order the broker confirmed them
        self.refused: str | None = None
        self.refusals = 0

    def refuse(self, message_id: str) -> None:
        self.refused = message_id

    def recover(self) -> None:
        self.refused = None

    def publish(self, envelope: Envelope[Any]) -> None:
        message_id = str(envelope.message_id)
        if message_id == self.refused:
            self.refusals += 1
            if self.refusals > 10:
                raise _RetryStorm("the same refused message was published more than ten times in one round")
            raise BrokerRefused(f"no confirm for message {message_id[:8]} (the broker nacked it)")
        self.stored.append(message_id)


def _outbox_with_orders(path: Path) -> tuple[SQLiteOutbox, list[str]]:
    """Five events of two streams in one outbox, committed in the order a1, b1, a2, b2, a3."""
    clock, ids = FixedStepClock(), SequentialIds()
    outbox = SQLiteOutbox(path)
    order = [("a", 1), ("b", 1), ("a", 2), ("b", 2), ("a", 3)]
    envelopes = [envelope(PaymentCharged(order_id=f"o-{stream}", payment_id=f"p-{stream}{n}", amount_cents=100 * n),
                          clock=clock, ids=ids, stream_id=f"order-{stream}") for stream, n in order]
    conn = sql.connect_sqlite(path)  # the order service's connection: one transaction for the five rows
    try:
        conn.execute("BEGIN")
        outbox.write(conn, envelopes)
        conn.execute("COMMIT")
    finally:
        conn.close()
    return outbox, [str(e.message_id) for e in envelopes]


RELAY_HINTS = Hints(
    concept="The relay turns \"written to the outbox\" into \"the broker has it\". It may publish a row twice "
            "(at-least-once) but must never mark a row sent that the broker does not have, and never let a "
            "stream's later event overtake an earlier one.",
    approach="Take the pending rows in their order. For each: publish its envelope, and only when that returned "
             "(the confirm came) mark that row sent. When a publish fails, stop the round there — the row stays "
             "pending and the next round retries it, before anything that came after it. Count what you published.",
    skeleton="def relay_once(outbox, publisher):\n    published = 0\n    for row in outbox.pending():\n"
             "        ...  # publish, then mark — a failure ends the round\n    return published",
)


def _pending_ids(outbox: SQLiteOutbox) -> list[str]:
    return [row.message_id for row in outbox.pending()]


def _one_round(relay_once: Any, outbox: SQLiteOutbox, broker: ConfirmingBroker) -> tuple[Any, bool]:
    """Run one round; (what it returned, whether it raised the broker's refusal)."""
    try:
        return relay_once(outbox, broker), False
    except BrokerRefused:
        return None, True


@exercise("nb10.relay_once", title="the outbox relay loop", level="★★", minutes=15, hints=RELAY_HINTS)
def check_relay_once(relay_once: Any) -> CheckResult:
    """Relay five rows of two streams; the broker refuses the third row's confirm during the first round."""
    if relay_once is None:
        return not_attempted("write relay_once(outbox, publisher) and pass it to the check")
    if not callable(relay_once):
        return wrong(f"relay_once must be a function, got {type(relay_once).__name__}")
    with tempfile.TemporaryDirectory() as tmp:
        outbox, ids = _outbox_with_orders(Path(tmp) / "shop.db")
        try:
            return _judge_relay(relay_once, outbox, tuple(ids))
        finally:
            outbox.close()


def _judge_relay(relay_once: Any, outbox: SQLiteOutbox, ids: tuple[str, ...]) -> CheckResult:
    names = dict(zip(ids, ("a1", "b1", "a2", "b2", "a3"), strict=True))
    broker = ConfirmingBroker()
    broker.refuse(ids[2])  # a2
    try:
        _one_round(relay_once, outbox, broker)
    except _RetryStorm:
        return wrong("your relay published the refused row over and over in the same round: end the round at the "
                     "first failure and let the next round retry it (a broker that is down stays down for a while)")
    stored = [names[i] for i in broker.stored]
    pending = [names[i] for i in _pending_ids(outbox)]
    if "a2" not in pending:
        return wrong(f"round 1: the broker never confirmed a2, yet a2 is no longer pending (still pending: "
                     f"{pending}) — it is marked sent and will never be published again: that event is lost")
    if "a3" in stored:
        return wrong(f"round 1: the broker got {stored} although a2 failed: a3, a later event of a2's stream, was "
                     "published before a2 — the round must stop at the first failed publish")
    if "b2" in stored:
        return wrong(f"round 1: the broker got {stored} although a2 failed: the round went on past the failure. "
                     "Rows after a failed one wait for the next round, so no stream's order can break")
    if stored != ["a1", "b1"]:
        return wrong(f"round 1: the broker got {stored}, expected a1 then b1 (commit order) before the refusal")
    if pending != ["a2", "b2", "a3"]:
        return wrong(f"round 1: after the failure the pending rows are {pending}: a1 and b1 were confirmed, so they "
                     "should be marked sent — otherwise the next round publishes them again")
    broker.recover()
    returned, raised = _one_round(relay_once, outbox, broker)
    stored = [names[i] for i in broker.stored]
    if raised or stored != ["a1", "b1", "a2", "b2", "a3"]:
        return wrong(f"round 2 (the broker is back): the broker holds {stored}; one round should have published "
                     "every pending row, in commit order")
    if _pending_ids(outbox):
        return wrong(f"round 2: the broker confirmed every row, yet {len(_pending_ids(outbox))} are still pending")
    if returned != 3:
        return wrong(f"round 2 published 3 rows, but relay_once returned {returned!r}: return how many rows the "
                     "round published")
    returned, _ = _one_round(relay_once, outbox, broker)
    if len(broker.stored) != 5 or returned != 0:
        return wrong(f"round 3, with nothing pending, published {len(broker.stored) - 5} rows and returned "
                     f"{returned!r}; expected nothing published and 0")
    return solved("round 1 stopped at the refused confirm with a1 and b1 marked sent and a2 still pending; round 2 "
                  "published a2, b2, a3 in commit order; an empty outbox publishes nothing")


CHECKS: dict[str, Check] = {"relay_once": check_relay_once, "credit_payment": check_credit_payment}
