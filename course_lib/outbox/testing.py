"""Contract tests every outbox and inbox backend must pass (SQLite, PostgreSQL), like ``EventStoreContract``.

A test module subclasses a contract and provides its fixtures: ``outbox`` (a fresh, empty outbox) for
``OutboxContract``; ``make_inbox`` (``make_inbox(consumer, key=None)`` -> a fresh inbox on one shared table) and
``effects_table`` (a table name the effects may create) for ``InboxContract``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from course_lib.clock import FixedStepClock, SequentialIds
from course_lib.eventstore.testing import item
from course_lib.messages import Envelope, Message, envelope
from course_lib.sql import Tx


def _envelopes(count: int, stream_id: str = "cart-1") -> list[Envelope[Message]]:
    clock, ids = FixedStepClock(), SequentialIds()
    return [envelope(item("1", f"sku{n}"), clock=clock, ids=ids, stream_id=stream_id) for n in range(count)]


class OutboxContract:
    """The outbox: rows written in the caller's transaction, published in commit order, marked once."""

    def _write(self, outbox: Any, envelopes: list[Envelope[Message]]) -> None:
        with outbox.db.transaction(Tx) as tx:
            outbox.write(tx.connection, envelopes)

    def test_rows_come_back_pending_in_write_order(self, outbox: Any) -> None:
        written = _envelopes(3)
        self._write(outbox, written)
        rows = outbox.pending()
        assert [r.message_id for r in rows] == [str(e.message_id) for e in written]
        assert [r.envelope() for r in rows] == written
        assert {(r.stream_id, r.type, r.attempts) for r in rows} == {("cart-1", "CartItemAdded", 0)}
        assert outbox.pending(limit=2) == rows[:2]

    def test_writing_the_same_message_twice_keeps_one_row(self, outbox: Any) -> None:
        written = _envelopes(2)
        self._write(outbox, written)
        self._write(outbox, written[:1])
        assert outbox.counts().written == 2
        assert outbox.message_ids() == {str(e.message_id) for e in written}

    def test_a_rolled_back_transaction_leaves_no_row(self, outbox: Any) -> None:
        with pytest.raises(RuntimeError), outbox.db.transaction(Tx) as tx:
            outbox.write(tx.connection, _envelopes(2))
            raise RuntimeError("the caller's transaction fails after the outbox rows")
        assert outbox.pending() == [] and outbox.counts().written == 0

    def test_sent_rows_leave_pending_and_count_once(self, outbox: Any) -> None:
        self._write(outbox, _envelopes(3))
        first, second, third = outbox.pending()
        outbox.mark_sent([first.id, second.id])
        outbox.mark_sent([first.id])  # a repeated confirmation changes nothing
        outbox.mark_sent([])
        assert [r.id for r in outbox.pending()] == [third.id]
        counts = outbox.counts()
        assert (counts.written, counts.sent, counts.pending) == (3, 2, 1)

    def test_attempts_are_counted_per_row(self, outbox: Any) -> None:
        self._write(outbox, _envelopes(2))
        first = outbox.pending()[0]
        outbox.mark_attempt(first.id)
        outbox.mark_attempt(first.id)
        assert [r.attempts for r in outbox.pending()] == [2, 0]

    def test_the_hook_is_an_in_transaction_callable(self, outbox: Any) -> None:
        with outbox.db.transaction(Tx) as tx:
            outbox.hook(tx.connection, _envelopes(1))
        assert outbox.counts().written == 1


class InboxContract:
    """The inbox: an effect applied once per key, atomically with remembering the key."""

    def test_a_message_is_applied_once(self, make_inbox: Callable[..., Any]) -> None:
        inbox = make_inbox("billing")
        env = _envelopes(1)[0]
        applied: list[str] = []
        assert inbox.handle(env, lambda conn, e: applied.append(str(e.message_id))) is True
        assert inbox.handle(env, lambda conn, e: applied.append(str(e.message_id))) is False
        assert applied == [str(env.message_id)]
        assert (inbox.processed(), inbox.duplicates) == (1, 1)

    def test_a_failing_effect_forgets_the_key_so_a_retry_applies_it(self, make_inbox: Callable[..., Any]) -> None:
        inbox = make_inbox("billing")
        env = _envelopes(1)[0]

        def explode(conn: Any, env: Envelope[Any]) -> None:
            raise RuntimeError("the effect failed")

        with pytest.raises(RuntimeError):
            inbox.handle(env, explode)
        assert inbox.processed() == 0
        applied: list[str] = []
        assert inbox.handle(env, lambda conn, e: applied.append("again")) is True
        assert applied == ["again"] and inbox.processed() == 1

    def test_the_effect_commits_with_the_key(self, make_inbox: Callable[..., Any], effects_table: str) -> None:
        inbox = make_inbox("ledger")
        inbox.connection.execute(f"CREATE TABLE IF NOT EXISTS {effects_table} (message_id TEXT PRIMARY KEY)")

        def record(conn: Any, env: Envelope[Any]) -> None:
            Tx(conn, inbox.db.dialect).execute(f"INSERT INTO {effects_table} VALUES (?)",
                                                   (str(env.message_id),))

        envs = _envelopes(3)
        for env in [*envs, envs[0]]:
            inbox.handle(env, record)
        rows = inbox.db.execute(f"SELECT count(*) FROM {effects_table}")
        assert rows == [(3,)] and inbox.processed() == 3

    def test_each_consumer_has_its_own_keys(self, make_inbox: Callable[..., Any]) -> None:
        env = _envelopes(1)[0]
        billing, shipping = make_inbox("billing"), make_inbox("shipping")
        assert billing.handle(env, lambda conn, e: None) is True
        assert shipping.handle(env, lambda conn, e: None) is True
        assert (billing.processed(), shipping.processed()) == (1, 1)

    def test_a_business_key_recognises_the_same_intent_in_a_new_message(
        self, make_inbox: Callable[..., Any]
    ) -> None:
        inbox = make_inbox("payments", key=lambda env: f"pay-{env.message.cart_id}")
        first, resent = _envelopes(2)  # two messages (two ids), one cart
        assert inbox.handle(first, lambda conn, e: None) is True
        assert inbox.handle(resent, lambda conn, e: None) is False
