"""The PostgreSQL gap policy against real transactions: never step over a position whose writer is still open,
step over a position whose writer has certainly ended at once, and replay a log with old holes completely.

Writers are delayed for real: a ``BEFORE INSERT`` trigger on the test's own events table runs after the sequence
handed out the position and before the row exists — the window where a transaction holds a position but has no
transaction id yet. It waits on an advisory lock the test holds (so the test decides when it ends) or sleeps.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from course_lib import pg
from course_lib.errors import CourseError
from course_lib.eventstore.postgres import PostgresEventStore
from course_lib.projections import PostgresGapPolicy, PostgresReadModels, Projector, dump
from course_lib.projections.testing import run_in_threads
from course_lib.shop.events import OrderCreated
from course_lib.shop.projections import OrderSummaries
from course_lib.shop.testing import HeldAppend
from course_lib.waiting import WaitTimeout, wait_until

pytestmark = pytest.mark.postgres


class FakeClock:
    """The policy's clock, moved by the test: waits of any length without waiting."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Rollback(Exception):
    """Raised inside an append's transaction to roll it back after it took its positions."""


def rolled_back_append(store: PostgresEventStore, order_id: str) -> list[int]:
    """Append one event and roll the transaction back: its position becomes a permanent hole. Returns it."""
    taken: list[int] = []

    def fail(_conn: Any, envelopes: list[Any]) -> None:
        taken.extend(e.metadata.position for e in envelopes)
        raise Rollback(order_id)

    with pytest.raises(Rollback):
        store.append(f"order-{order_id}", [OrderCreated(order_id=order_id, customer_id="gone")], in_transaction=fail)
    return taken


def order(store: PostgresEventStore, order_id: str) -> int:
    return store.append(f"order-{order_id}", [OrderCreated(order_id=order_id, customer_id="c")]).position


def orders_in(read_models: PostgresReadModels) -> set[str]:
    return {row[0] for row in read_models.query("SELECT order_id FROM order_summaries")}


def delay_inserts(store: PostgresEventStore, when: str, then: str) -> None:
    """A ``BEFORE INSERT`` trigger on the store's events: for rows where ``when`` holds, run ``then`` first."""
    schema = store.schema
    with store.connection.transaction():
        store.connection.execute(
            f"CREATE FUNCTION {schema}.delay_insert() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN IF {when} THEN {then}; END IF; RETURN NEW; END $$")
        store.connection.execute(f"CREATE TRIGGER delay_insert BEFORE INSERT ON {schema}.events "
                                 f"FOR EACH ROW EXECUTE FUNCTION {schema}.delay_insert()")


@pytest.fixture
def gate(postgres_url: str) -> Iterator[tuple[Any, int]]:
    """A connection holding an exclusive advisory lock (key returned) that a trigger can wait on; released at end."""
    conn = pg.connect(postgres_url)
    key = random.randint(1, 2**62)
    conn.execute("SELECT pg_advisory_lock(%s)", (key,))
    yield conn, key
    conn.close()


def test_rebuild_replays_a_log_with_old_rolled_back_holes(
        pg_store: PostgresEventStore, pg_read_models: PostgresReadModels) -> None:
    """It used to stop at the first hole without an error, and a second ``catch_up()`` applied nothing."""
    holes: list[int] = []
    for i in range(12):
        order(pg_store, f"o{i}")
        if i % 3 == 0:
            holes += rolled_back_append(pg_store, f"x{i}")
    head = pg_store.last_position()
    projector = Projector(pg_store, pg_read_models, OrderSummaries())
    try:
        wait_until(lambda: projector.catch_up() or projector.position == head, timeout=20,
                   what="the first catch-up to pass the holes")
        expected = dump(pg_read_models, OrderSummaries())
        assert projector.rebuild(progress=False) == 12
        assert projector.position == head and projector.catch_up() == 0
        assert dump(pg_read_models, OrderSummaries()) == expected and len(orders_in(pg_read_models)) == 12
        assert sorted(p for gap in projector.stats.skipped_gaps for p in range(gap[0], gap[1] + 1)) == sorted(holes * 2)
    finally:
        projector.close()


def test_rebuild_waits_for_an_open_writer_within_its_timeout_and_says_why(
        pg_store: PostgresEventStore, pg_read_models: PostgresReadModels,
        another_writer: Callable[[], PostgresEventStore]) -> None:
    order(pg_store, "first")
    projector = Projector(pg_store, pg_read_models, OrderSummaries())
    held = HeldAppend(another_writer(), "slow")
    try:
        order(pg_store, "fast")
        with pytest.raises(WaitTimeout, match=f"waiting for a gap at {held.position}..{held.position}"):
            projector.rebuild(progress=False, timeout=0.3)
        assert projector.position == held.position - 1 and orders_in(pg_read_models) == {"first"}
    finally:
        held.finish()
    assert projector.rebuild(progress=False) == 3 and orders_in(pg_read_models) == {"first", "slow", "fast"}
    projector.close()


def test_a_writer_that_took_its_position_but_has_not_inserted_yet_is_not_stepped_over(
        postgres_url: str, pg_store: PostgresEventStore, pg_read_models: PostgresReadModels,
        another_writer: Callable[[], PostgresEventStore], gate: tuple[Any, int]) -> None:
    """The old policy's snapshot missed a writer without a transaction id, so its event was never projected."""
    gate_conn, key = gate
    order(pg_store, "before")
    delay_inserts(pg_store, "NEW.stream_id = 'order-slow'", f"PERFORM pg_advisory_xact_lock_shared({key})")
    clock = FakeClock()
    policy = PostgresGapPolicy(postgres_url, clock=clock)
    projector = Projector(pg_store, pg_read_models, OrderSummaries(), gap_policy=policy)
    slow_writer = another_writer()
    slow: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: slow.update(position=order(slow_writer, "slow")), daemon=True)
    thread.start()
    try:
        wait_until(lambda: gate_conn.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objsubid = 1 "
            "AND (classid::bigint << 32) + objid::bigint = %s", (key,)).fetchone()[0] == 1,
            timeout=20, what="the slow append to wait in its BEFORE INSERT trigger, its position taken")
        fast = order(pg_store, "fast")
        for _ in range(4):  # well past the old policy's 50 ms "min_wait", far from any alarm
            projector.catch_up()
            clock.now += 1.0
        assert projector.position == fast - 2  # waits in front of the slow writer's position
        assert projector.status().waiting_for == (fast - 1, fast - 1) and projector.status().alarm is None
    finally:
        gate_conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
        thread.join(20)
    assert slow["position"] == fast - 1
    wait_until(lambda: projector.catch_up() or projector.position == fast, timeout=20,
               what="the projector to pass the slow and the fast append")
    assert orders_in(pg_read_models) == {"before", "slow", "fast"} and projector.stats.skipped_gaps == []
    policy.close()


def test_a_writer_open_longer_than_alarm_after_raises_an_alarm_and_is_never_skipped(
        postgres_url: str, pg_store: PostgresEventStore, pg_read_models: PostgresReadModels,
        another_writer: Callable[[], PostgresEventStore]) -> None:
    """The old policy stepped over the position silently once ``max_wait`` expired; the event was lost."""
    clock = FakeClock()
    policy = PostgresGapPolicy(postgres_url, alarm_after=5.0, clock=clock)
    projector = Projector(pg_store, pg_read_models, OrderSummaries(), gap_policy=policy)
    held = HeldAppend(another_writer(), "slow")
    try:
        fast = order(pg_store, "fast")
        projector.catch_up()
        clock.now += 3600.0
        projector.catch_up()
        assert projector.position == held.position - 1  # still waiting, an hour later
        status = projector.status()
        assert status.waiting_for == (held.position, held.position)
        assert status.alarm is not None and f"position {held.position} " in status.alarm
        assert "pid " in status.alarm and "never steps over" in status.alarm and "Commit or roll back" in status.alarm
    finally:
        held.finish()
    assert held.error is None
    wait_until(lambda: projector.catch_up() or projector.position == fast, timeout=20,
               what="the projector to pass the held append once it committed")
    assert orders_in(pg_read_models) == {"slow", "fast"} and projector.stats.skipped_gaps == []
    assert projector.status().alarm is None and projector.status().waiting_for is None
    policy.close()


def test_holes_whose_writers_ended_are_stepped_over_at_once_while_a_newer_writer_is_open(
        postgres_url: str, pg_store: PostgresEventStore, pg_read_models: PostgresReadModels,
        another_writer: Callable[[], PostgresEventStore]) -> None:
    """Issue 17: only a hole that may still be filled waits; the old policy waited at the first hole of all."""
    holes: list[int] = []
    for i in range(6):
        holes += rolled_back_append(pg_store, f"x{i}")
        order(pg_store, f"o{i}")
    policy = PostgresGapPolicy(postgres_url, alarm_after=1000)
    projector = Projector(pg_store, pg_read_models, OrderSummaries(), gap_policy=policy)
    held = HeldAppend(another_writer(), "slow")
    try:
        fast = order(pg_store, "fast")
        assert projector.catch_up() == 6  # one call: every old hole stepped over, no wait
        assert projector.position == held.position - 1
        assert [p for gap in projector.stats.skipped_gaps for p in range(gap[0], gap[1] + 1)] == holes
    finally:
        held.finish()
    wait_until(lambda: projector.catch_up() or projector.position == fast, timeout=20,
               what="the projector to pass the held append")
    assert len(orders_in(pg_read_models)) == 8
    policy.close()


def test_many_writers_with_rollbacks_and_slow_inserts_lose_nothing(
        pg_store: PostgresEventStore, pg_read_models: PostgresReadModels,
        another_writer: Callable[[], PostgresEventStore]) -> None:
    """Four writers; some appends roll back, some sleep between taking their position and inserting the row."""
    delay_inserts(pg_store, "NEW.stream_id LIKE 'order-slow-%'", "PERFORM pg_sleep(0.12)")
    projector = Projector(pg_store, pg_read_models, OrderSummaries(), page_size=7, batch_size=3)
    projector.start(poll_interval=0.005)
    writers = [another_writer() for _ in range(4)]
    rolled_back: list[int] = []

    def write(w: int) -> None:
        for i in range(24):
            if i % 5 == 4:
                rolled_back.extend(rolled_back_append(writers[w], f"gone-{w}-{i}"))
            else:
                order(writers[w], f"{'slow' if (i + w) % 4 == 1 else 'quick'}-{w}-{i}")  # staggered

    try:
        run_in_threads(write, 4, timeout=120)
        committed = {e.metadata.position: e.message.order_id for e in pg_store.read_all(1, 10_000)}
        projector.wait_for_position(max(committed), timeout=30)
    finally:
        projector.stop()
        projector.close()
    skipped = {p for first, last in projector.stats.skipped_gaps for p in range(first, last + 1)}
    assert orders_in(pg_read_models) == set(committed.values()) and len(committed) == 4 * 24 - 4 * 4
    assert skipped.isdisjoint(committed) and skipped <= set(rolled_back)
    assert projector.status().last_error is None


def test_a_policy_bound_to_another_schema_is_refused_with_the_fix(
        postgres_url: str, pg_store: PostgresEventStore, pg_read_models: PostgresReadModels) -> None:
    policy = PostgresGapPolicy(postgres_url, schema="some_other_store")
    with pytest.raises(CourseError, match=f"schema={pg_store.schema!r}"):
        Projector(pg_store, pg_read_models, OrderSummaries(), gap_policy=policy)
    policy.close()
    unbound = PostgresGapPolicy(postgres_url)
    with pytest.raises(CourseError, match="pass it to a Projector"):
        unbound.settled(1, 1)
    unbound.close()


def test_a_policy_without_a_url_uses_the_projectors_store(
        pg_store: PostgresEventStore, pg_read_models: PostgresReadModels) -> None:
    order(pg_store, "a")
    rolled_back_append(pg_store, "gone")
    order(pg_store, "b")
    policy = PostgresGapPolicy()
    projector = Projector(pg_store, pg_read_models, OrderSummaries(), gap_policy=policy)
    assert projector.catch_up() == 2 and policy.url == pg_store.url and policy.schema == pg_store.schema
    policy.close()


def test_the_old_keywords_still_work_and_say_what_changed(postgres_url: str) -> None:
    with pytest.warns(DeprecationWarning, match="max_wait is now alarm_after"):
        policy = PostgresGapPolicy(postgres_url, min_wait=0.05, max_wait=7.0)
    assert policy.alarm_after == 7.0
    policy.close()
