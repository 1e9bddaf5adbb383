"""Notebook 10's check accepts the reference solution and rejects wrong answers with a reason."""

from __future__ import annotations

from typing import Any

from course_lib.exercises.nb10 import CHECKS, check_credit_payment
from course_lib.messages import Envelope
from course_lib.outbox import SQLiteInbox
from solutions.nb10 import ANSWERS

UPSERT = ("INSERT INTO received (order_id, cents) VALUES (?, ?) "
          "ON CONFLICT (order_id) DO UPDATE SET cents = cents + excluded.cents")


def test_every_check_accepts_the_reference_solution() -> None:
    assert set(CHECKS) == set(ANSWERS)
    for name, check in CHECKS.items():
        assert check(ANSWERS[name]).solved


def test_placeholder_is_not_attempted() -> None:
    result = check_credit_payment(None)
    assert not result.solved and not result.attempted


def test_consumer_without_inbox_counts_duplicates() -> None:
    def naive(inbox: SQLiteInbox, env: Envelope[Any]) -> None:
        inbox.connection.execute(UPSERT, (env.message.order_id, env.message.amount_cents))

    result = check_credit_payment(naive)
    assert not result.solved and "duplicate deliveries were credited again" in result.message


def test_deduplicating_by_order_drops_a_real_payment() -> None:
    def by_order(inbox: SQLiteInbox, env: Envelope[Any]) -> None:
        conn = inbox.connection
        if conn.execute("SELECT 1 FROM received WHERE order_id = ?", (env.message.order_id,)).fetchone():
            return
        inbox.handle(env, lambda c, e: c.execute(UPSERT, (e.message.order_id, e.message.amount_cents)))

    result = check_credit_payment(by_order)
    assert not result.solved and "payments was lost" in result.message


def test_the_notebooks_broken_inbox_loses_the_payment_whose_credit_failed() -> None:
    """What notebook 10's find-the-bug text says of the consumer it hands over: o-2's money never arrives."""
    from pathlib import Path

    import nbformat

    from course_lib.exercises.nb10 import deliver_with_a_failed_credit

    notebook = nbformat.read(Path(__file__).resolve().parents[2] / "notebooks" / "10_outbox_and_idempotency.ipynb",
                             as_version=4)
    (source,) = [c.source for c in notebook.cells if "# Broken on purpose: repair it" in c.source]
    namespace: dict[str, Any] = {}
    exec(source, namespace)
    run = deliver_with_a_failed_credit(namespace["credit_payment"])
    assert run.failures == 2 and run.lost == ["o-2"] and run.totals == {"o-1": 1500}
