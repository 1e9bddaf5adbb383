"""Outbox, relay and inbox against SQLite files, with an in-memory publisher (no broker needed)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from course_lib.clock import FixedStepClock, SequentialIds
from course_lib.eventstore.sqlite import SQLiteEventStore
from course_lib.labs.outbox_chaos import CountingConsumer, kill_relay_repeatedly, verdict
from course_lib.messages import envelope
from course_lib.outbox import RecordingPublisher, Relay, RelayWorker, SQLiteInbox, SQLiteOutbox
from course_lib.shop.events import OrderCreated, OrderSubmitted, PaymentCharged
from course_lib.shop.services import SimulatedCrash
from course_lib.waiting import wait_until


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "shop.db"


@pytest.fixture
def store(db: Path) -> Iterator[SQLiteEventStore]:
    s = SQLiteEventStore(db, clock=FixedStepClock(), ids=SequentialIds())
    yield s
    s.close()


@pytest.fixture
def outbox(db: Path) -> Iterator[SQLiteOutbox]:
    o = SQLiteOutbox(db)
    yield o
    o.close()


def place(store: SQLiteEventStore, outbox: SQLiteOutbox, order: str) -> None:
    store.append(f"order-{order}", [OrderCreated(order_id=order, customer_id="c"),
                                    OrderSubmitted(order_id=order, total_cents=100)], in_transaction=outbox.hook)


def test_outbox_rows_commit_with_the_events(store: SQLiteEventStore, outbox: SQLiteOutbox) -> None:
    place(store, outbox, "1")
    assert outbox.counts().written == 2 and outbox.counts().pending == 2
    assert [r.type for r in outbox.pending()] == ["OrderCreated", "OrderSubmitted"]
    assert outbox.pending()[1].envelope().metadata.stream_version == 2


def test_a_failing_outbox_write_rolls_back_the_events_too(store: SQLiteEventStore, outbox: SQLiteOutbox) -> None:
    def broken(conn: object, envs: list) -> None:  # type: ignore[type-arg]
        outbox.write(conn, envs)
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        store.append("order-1", [OrderCreated(order_id="1", customer_id="c")], in_transaction=broken)
    assert store.stream_version("order-1") == 0
    assert outbox.counts().written == 0


def test_relay_publishes_in_order_and_marks_sent(store: SQLiteEventStore, outbox: SQLiteOutbox) -> None:
    for order in ("1", "2", "3"):
        place(store, outbox, order)
    publisher = RecordingPublisher()
    assert Relay(outbox, publisher, batch_size=4).drain() == 6
    assert [e.metadata.position for e in publisher.published] == [1, 2, 3, 4, 5, 6]
    assert outbox.counts().pending == 0
    assert Relay(outbox, publisher).run_once() == 0  # nothing is published twice by a healthy relay


def test_publish_failure_stops_the_batch_so_stream_order_holds(store: SQLiteEventStore, outbox: SQLiteOutbox) -> None:
    place(store, outbox, "1")
    publisher = RecordingPublisher()
    relay = Relay(outbox, publisher)
    publisher.fail_next()
    with pytest.raises(ConnectionError):
        relay.run_once()
    assert publisher.published == [] and outbox.counts().pending == 2
    assert relay.stats.failures == 1 and "ConnectionError" in relay.stats.last_error
    relay.drain()
    assert [e.type for e in publisher.published] == ["OrderCreated", "OrderSubmitted"]
    assert outbox.pending(10) == []


def test_crash_after_publish_before_mark_gives_a_duplicate_not_a_gap(store: SQLiteEventStore,
                                                                    outbox: SQLiteOutbox) -> None:
    place(store, outbox, "1")
    publisher = RecordingPublisher()

    def die_after_first_publish(where: str) -> None:
        if where == "after publish":
            raise SimulatedCrash(where)

    with pytest.raises(SimulatedCrash):
        Relay(outbox, publisher, crash_hook=die_after_first_publish).run_once()
    Relay(outbox, publisher).drain()
    ids = [str(e.message_id) for e in publisher.published]
    assert len(ids) == 3 and len(set(ids)) == 2 and ids[0] == ids[1]


def test_inbox_applies_a_message_once(db: Path) -> None:
    inbox = SQLiteInbox(db, "billing")
    inbox.connection.execute("CREATE TABLE total (n INTEGER)")
    inbox.connection.execute("INSERT INTO total VALUES (0)")
    env = envelope(OrderSubmitted(order_id="1", total_cents=250))

    def add(conn: object, e: object) -> None:
        conn.execute("UPDATE total SET n = n + 250")  # type: ignore[attr-defined]

    assert inbox.handle(env, add) is True
    assert inbox.handle(env, add) is False
    assert inbox.connection.execute("SELECT n FROM total").fetchone()[0] == 250
    assert inbox.processed() == 1 and inbox.duplicates == 1
    other = SQLiteInbox(db, "shipping")  # another consumer processes the same message independently
    assert other.handle(env, lambda c, e: None) is True
    inbox.close()
    other.close()


def test_the_dedup_key_decides_which_repeats_the_inbox_absorbs(db: Path) -> None:
    charge = PaymentCharged(order_id="o7", payment_id="pay-1", amount_cents=2500)
    first = envelope(charge)
    deliveries = [first, first,  # a redelivery: the same message twice
                  envelope(charge),  # the client re-sent its command after a timeout: same payment, fresh id
                  envelope(PaymentCharged(order_id="o7", payment_id="pay-2", amount_cents=900))]  # a 2nd payment

    def credited(key: Any, name: str) -> int:
        inbox = SQLiteInbox(db, name, **({"key": key} if key else {}))
        total = [0]
        for env in deliveries:
            inbox.handle(env, lambda conn, e: total.__setitem__(0, total[0] + e.message.amount_cents))
        inbox.close()
        return total[0]

    assert credited(None, "by-message-id") == 2500 * 2 + 900  # the re-sent command is charged twice
    assert credited(lambda e: e.message.order_id, "by-order") == 2500  # the second, real payment is lost
    assert credited(lambda e: e.message.payment_id, "by-payment") == 2500 + 900  # the business key is right


def test_inbox_effect_failure_records_nothing(db: Path) -> None:
    inbox = SQLiteInbox(db, "c")
    env = envelope(OrderSubmitted(order_id="1", total_cents=1))

    def boom(conn: object, e: object) -> None:
        raise ValueError("effect failed")

    with pytest.raises(ValueError):
        inbox.handle(env, boom)
    assert inbox.processed() == 0  # so the redelivery will be processed
    assert inbox.handle(env, lambda c, e: None) is True
    inbox.close()


def test_chaos_relay_killed_many_times_loses_nothing_and_duplicates_no_effect(
        store: SQLiteEventStore, outbox: SQLiteOutbox, db: Path, tmp_path: Path) -> None:
    for order in range(40):
        place(store, outbox, str(order))
    written = {r.message_id for r in outbox.pending(1000)}
    consumer = CountingConsumer(tmp_path / "consumer.db")

    class Deliver:
        def publish(self, env: object) -> None:
            consumer.receive(env)  # type: ignore[arg-type]

    stats = kill_relay_repeatedly(lambda: SQLiteOutbox(db), Deliver(), seed=42, crash_probability=0.1)
    result = verdict(written, consumer.effects())
    assert stats.crashes >= 20
    assert stats.crash_points.get("after publish", 0) > 0
    assert consumer.deliveries > len(written)  # duplicates really were delivered …
    assert consumer.duplicates_absorbed == consumer.deliveries - len(written)
    assert result.lost == 0 and result.duplicated == 0 and result.ok  # … and absorbed
    consumer.close()


def test_without_inbox_the_same_chaos_duplicates_effects(store: SQLiteEventStore, outbox: SQLiteOutbox, db: Path,
                                                         tmp_path: Path) -> None:
    for order in range(20):
        place(store, outbox, str(order))
    written = {r.message_id for r in outbox.pending(1000)}
    consumer = CountingConsumer(tmp_path / "naive.db", use_inbox=False)

    class Deliver:
        def publish(self, env: object) -> None:
            consumer.receive(env)  # type: ignore[arg-type]

    kill_relay_repeatedly(lambda: SQLiteOutbox(db), Deliver(), seed=42, crash_probability=0.2)
    result = verdict(written, consumer.effects())
    assert result.lost == 0 and result.duplicated > 0
    consumer.close()


def test_relay_worker_publishes_new_rows_and_stops(store: SQLiteEventStore, outbox: SQLiteOutbox) -> None:
    publisher = RecordingPublisher()
    worker = RelayWorker(Relay(outbox, publisher), interval=0.01).start()
    try:
        place(store, outbox, "1")
        wait_until(lambda: len(publisher.published) == 2, timeout=5, what="the worker to publish 2 events")
        publisher.fail_next()
        place(store, outbox, "2")
        wait_until(lambda: len(publisher.published) == 4, timeout=5, what="the retry after a failure")
    finally:
        worker.stop()
    assert not worker.running
    assert worker.errors and "ConnectionError" in worker.errors[0]
