"""Projections on real PostgreSQL: crash anywhere and restart, and the global-order gap problem.

The gap test holds one append's transaction open (through the store's ``in_transaction`` hook) while a second
append takes a higher position and commits — exactly how PostgreSQL makes position 11 visible before 10.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from course_lib.eventstore.postgres import PostgresEventStore
from course_lib.eventstore.sqlite import SQLiteEventStore
from course_lib.projections import (
    CRASH_POINTS,
    PostgresGapPolicy,
    PostgresReadModels,
    Projector,
    SQLiteReadModels,
    WaitForGap,
    dump,
)
from course_lib.projections.testing import crash_everywhere, run_in_threads
from course_lib.shop.events import OrderCreated
from course_lib.shop.projections import CustomerTotals, OrderSummaries
from course_lib.shop.testing import HeldAppend, seed_shop_history
from course_lib.waiting import wait_until

pytestmark = pytest.mark.postgres


@pytest.mark.parametrize("make", [OrderSummaries, CustomerTotals], ids=lambda c: c.name)
def test_a_crash_at_every_point_then_restart_is_exact_on_postgres(
        pg_store: PostgresEventStore, pg_read_models: PostgresReadModels, make: Any) -> None:
    head = seed_shop_history(pg_store, orders=5)
    report = crash_everywhere(pg_store, pg_read_models, make, page_size=6, batch_size=4)
    assert report.mismatches == []
    assert set(report.crashes) == set(CRASH_POINTS)
    assert report.crashes["before_apply"] == head


def test_the_same_crash_test_on_sqlite_files(tmp_path: Any) -> None:
    store = SQLiteEventStore(tmp_path / "events.db")
    read_models = SQLiteReadModels(tmp_path / "read.db")
    head = seed_shop_history(store, orders=5)
    report = crash_everywhere(store, read_models, OrderSummaries, page_size=6, batch_size=4)
    assert report.mismatches == [] and report.crashes["before_apply"] == head
    store.close()
    read_models.close()


def test_an_event_committed_after_a_higher_position_is_not_lost(
        postgres_url: str, pg_store: PostgresEventStore, pg_read_models: PostgresReadModels,
        another_writer: Callable[[], PostgresEventStore]) -> None:
    seed_shop_history(pg_store, orders=2)
    before = pg_store.last_position()
    other = another_writer()
    policy = PostgresGapPolicy(postgres_url, alarm_after=1000)  # only the database can settle a gap
    projector = Projector(pg_store, pg_read_models, OrderSummaries(), gap_policy=policy)
    held = HeldAppend(other, "slow")
    try:
        fast = pg_store.append("order-fast", [OrderCreated(order_id="fast", customer_id="quick")])
        assert fast.position == held.position + 1  # the higher position commits first: a gap at held.position
        for _ in range(3):  # the gap's transaction is still running: the projector waits in front of it
            projector.catch_up()
            assert projector.position == before and projector.lag() == fast.position - before
    finally:
        held.finish()
    assert held.error is None
    wait_until(lambda: projector.catch_up() or projector.position == fast.position, timeout=10,
               what="the projector to pass both appends")
    orders = {row[0] for row in pg_read_models.query("SELECT order_id FROM order_summaries")}
    assert {"slow", "fast"} <= orders
    assert projector.stats.skipped_gaps == []
    policy.close()


def test_without_gap_handling_the_late_commit_is_skipped_forever(
        pg_store: PostgresEventStore, pg_read_models: PostgresReadModels,
        another_writer: Callable[[], PostgresEventStore]) -> None:
    """The control experiment: a projector that steps over gaps at once really loses the event."""
    other = another_writer()
    projector = Projector(pg_store, pg_read_models, OrderSummaries(), gap_policy=WaitForGap(grace=0))
    held = HeldAppend(other, "slow")
    try:
        fast = pg_store.append("order-fast", [OrderCreated(order_id="fast", customer_id="quick")])
        projector.catch_up()
        assert projector.position == fast.position
    finally:
        held.finish()
    projector.catch_up()
    orders = {row[0] for row in pg_read_models.query("SELECT order_id FROM order_summaries")}
    assert orders == {"fast"}  # "slow" committed at a lower position, after the checkpoint passed it
    assert pg_store.read_all(held.position, 1)[0].metadata.position == held.position


def test_a_rolled_back_append_leaves_a_permanent_gap_that_is_stepped_over(
        postgres_url: str, pg_store: PostgresEventStore, pg_read_models: PostgresReadModels,
        another_writer: Callable[[], PostgresEventStore]) -> None:
    other = another_writer()
    policy = PostgresGapPolicy(postgres_url, alarm_after=1000)
    projector = Projector(pg_store, pg_read_models, OrderSummaries(), gap_policy=policy)
    held = HeldAppend(other, "doomed", fail=True)
    try:
        fast = pg_store.append("order-fast", [OrderCreated(order_id="fast", customer_id="quick")])
        projector.catch_up()
        assert projector.position == 0
    finally:
        held.finish()
    assert held.error is not None  # rolled back: its position will never be used
    wait_until(lambda: projector.catch_up() or projector.position == fast.position, timeout=10,
               what="the projector to step over the rolled-back position")
    assert projector.stats.skipped_gaps == [(held.position, held.position)]
    reference = Projector(pg_store, pg_read_models, OrderSummaries(), gap_policy=WaitForGap(0))
    expected = dump(pg_read_models, OrderSummaries())
    assert reference.rebuild(progress=False) == 1
    assert dump(pg_read_models, OrderSummaries()) == expected
    policy.close()


def test_concurrent_writers_while_the_worker_runs_lose_nothing(
        postgres_url: str, pg_store: PostgresEventStore, pg_read_models: PostgresReadModels,
        another_writer: Callable[[], PostgresEventStore]) -> None:
    """Four writers on their own connections race while the worker follows the log: every event arrives.

    Uneven transaction lengths (a short ``pg_sleep`` inside some appends' transactions) make commits land out of
    position order, so the worker meets real gaps; a projector that stepped over them at once lost events in
    this setup (measured while writing the test), this one must not.
    """
    policy = PostgresGapPolicy(postgres_url, alarm_after=1000)
    projector = Projector(pg_store, pg_read_models, OrderSummaries(), page_size=7, batch_size=3,
                          gap_policy=policy).start(poll_interval=0.005)
    writers = [another_writer() for _ in range(4)]

    def write(w: int) -> None:
        for i in range(25):
            delay = 0.001 * ((i * 7 + w * 3) % 5)  # 0-4 ms spent inside the transaction, after the insert
            writers[w].append(f"order-w{w}-{i}", [OrderCreated(order_id=f"w{w}-{i}", customer_id=f"c{w}")],
                              in_transaction=lambda conn, _envs, d=delay: conn.execute("SELECT pg_sleep(%s)", (d,)))

    try:
        run_in_threads(write, 4)
        projector.wait_for_position(pg_store.last_position(), timeout=30)
    finally:
        projector.stop()
        policy.close()
    count = pg_read_models.query("SELECT count(*) FROM order_summaries")[0][0]
    assert count == 100 and projector.stats.skipped_gaps == []


def test_a_projector_on_a_postgres_store_asks_the_database_about_gaps_by_default(
        pg_store: PostgresEventStore, pg_read_models: PostgresReadModels) -> None:
    projector = Projector(pg_store, pg_read_models, OrderSummaries())
    assert isinstance(projector.gaps, PostgresGapPolicy)
    projector.close()
    assert projector.gaps._conn.closed  # type: ignore[attr-defined]


def test_two_projectors_of_one_projection_racing_never_apply_a_batch_twice(
        postgres_url: str, pg_store: PostgresEventStore, pg_read_models: PostgresReadModels) -> None:
    """Additive totals would double-count if both applied the same batch; the locked checkpoint prevents it."""
    seed_shop_history(pg_store, orders=30)
    second_models = PostgresReadModels(postgres_url, schema=pg_read_models.schema)  # another process, in effect
    racers = [Projector(pg_store, models, CustomerTotals(), page_size=8, batch_size=3, gap_policy=WaitForGap())
              for models in (pg_read_models, second_models)]
    errors: list[BaseException] = []

    def run(projector: Projector) -> None:
        try:
            projector.catch_up()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(p,)) for p in racers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    raced = dump(pg_read_models, CustomerTotals())
    assert sum(p.stats.events for p in racers) == pg_store.last_position()  # every event applied exactly once
    Projector(pg_store, pg_read_models, CustomerTotals(), gap_policy=WaitForGap()).rebuild(progress=False)
    assert raced == dump(pg_read_models, CustomerTotals())
    second_models.close()
