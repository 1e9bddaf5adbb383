"""The projector: exact checkpoints (crash anywhere, restart, identical), gaps, worker, rebuild, lag, queries."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import pytest

from course_lib.buses import CommandBus, QueryBus
from course_lib.errors import CourseError, ServiceUnavailable
from course_lib.eventstore.memory import InMemoryEventStore
from course_lib.eventstore.sqlite import SQLiteEventStore
from course_lib.messages import Envelope, Message
from course_lib.projections import CRASH_POINTS, Projection, Projector, SQLiteReadModels, Tx, WaitForGap, dump
from course_lib.projections.testing import crash_everywhere
from course_lib.shop.commands import AddItem, PlaceOrder, SubmitOrder, register_shop_handlers
from course_lib.shop.events import OrderCreated
from course_lib.shop.projections import (
    CustomerTotals,
    DailySales,
    GetCustomerTotals,
    GetDailySales,
    GetOrder,
    ListOrders,
    OrderSummaries,
    register_shop_queries,
)
from course_lib.shop.testing import seed_shop_history
from course_lib.waiting import WaitTimeout, wait_until


@pytest.fixture
def read_models(tmp_path: Path) -> Any:
    rm = SQLiteReadModels(tmp_path / "read.db")
    yield rm
    rm.close()


@pytest.fixture
def store() -> InMemoryEventStore:
    return InMemoryEventStore()


class GappyStore:
    """An in-memory store whose reads hide some positions — an append that took them has not committed yet."""

    def __init__(self, inner: InMemoryEventStore) -> None:
        self.inner = inner
        self.hidden: set[int] = set()
        self.reads = 0

    def read_all(self, from_position: int = 1, limit: int = 1000) -> list[Envelope[Message]]:
        self.reads += 1
        page = self.inner.read_all(from_position, limit + len(self.hidden))
        return [e for e in page if e.metadata.position not in self.hidden][:limit]

    def last_position(self) -> int:
        return self.inner.last_position()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


# --------------------------------------------------------------------------------------------- the basics


def test_catch_up_builds_the_shop_read_models_and_queries_answer(store: InMemoryEventStore, read_models: Any) -> None:
    head = seed_shop_history(store)
    for projection in (OrderSummaries(), CustomerTotals(), DailySales()):
        projector = Projector(store, read_models, projection, page_size=5, batch_size=3)
        assert projector.lag() == head
        assert projector.catch_up() == head
        assert projector.position == read_models.checkpoint(projection.name) == head
        assert projector.lag() == 0 and projector.catch_up() == 0
    queries = register_shop_queries(QueryBus(), read_models)
    orders = queries.ask(ListOrders())
    assert [o.order_id for o in orders] == [f"o{i}" for i in range(8)]
    o1 = queries.ask(GetOrder(order_id="o1"))  # two lines, the first removed: 2 x 200 cents left
    assert o1 is not None and (o1.status, o1.item_count, o1.total_cents) == ("draft", 2, 400)
    statuses = {o.order_id: o.status for o in orders}
    assert statuses["o0"] == "paid" and statuses["o2"] == "cancelled" and statuses["o4"] == "submitted"
    totals = {c.customer_id: c for c in queries.ask(GetCustomerTotals())}
    assert sum(c.orders for c in totals.values()) == 8
    # submitted: o0 (300), o2 (900, cancelled later), o4 (1500), o6 (2100) → spent excludes the cancelled o2
    assert sum(c.spent_cents for c in totals.values()) == 300 + 1500 + 2100
    sales = queries.ask(GetDailySales())
    assert sum(d.orders for d in sales) == 3 and sum(d.revenue_cents for d in sales) == 3900
    assert len(queries.ask(ListOrders(customer_id="c0"))) == 3


def test_a_command_is_not_in_the_read_model_until_the_projector_reaches_its_position(
        store: InMemoryEventStore, read_models: Any) -> None:
    bus = register_shop_handlers(CommandBus(store))
    queries = register_shop_queries(QueryBus(), read_models)
    projector = Projector(store, read_models, OrderSummaries())
    bus.dispatch(PlaceOrder(order_id="o1", customer_id="ada"))
    result = bus.dispatch(AddItem(order_id="o1", sku="mug", quantity=2, unit_price_cents=500))
    assert queries.ask(GetOrder(order_id="o1")) is None  # stale: nothing projected yet
    projector.start(poll_interval=0.01)
    try:
        assert projector.wait_for_position(result.position, timeout=10) >= result.position
        order = queries.ask(GetOrder(order_id="o1"))
        assert order is not None and order.total_cents == 1000
        result = bus.dispatch(SubmitOrder(order_id="o1"))
        projector.notify()
        projector.wait_for_position(result.position, timeout=10)
        assert queries.ask(GetOrder(order_id="o1")).status == "submitted"  # type: ignore[union-attr]
    finally:
        projector.stop()
    assert not projector.running


def test_waiting_without_a_worker_times_out_and_says_why(store: InMemoryEventStore, read_models: Any) -> None:
    store.append("order-o1", [OrderCreated(order_id="o1", customer_id="ada")])
    projector = Projector(store, read_models, OrderSummaries())
    with pytest.raises(WaitTimeout, match=r"no worker is running: call projector\.start"):
        projector.wait_for_position(1, timeout=0.1)


def test_max_events_and_lag(store: InMemoryEventStore, read_models: Any) -> None:
    head = seed_shop_history(store)
    projector = Projector(store, read_models, OrderSummaries(), page_size=4, batch_size=3)
    assert projector.catch_up(max_events=5) == 5
    assert projector.position == 5 and projector.lag() == head - 5


def test_progress_bar_does_not_change_the_result(store: InMemoryEventStore, read_models: Any,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    head = seed_shop_history(store)
    projector = Projector(store, read_models, OrderSummaries(), page_size=4, batch_size=3)
    assert projector.rebuild(progress=True) == head
    assert "rebuild order_summaries" in capsys.readouterr().err


# -------------------------------------------------------------------------------------- crash and restart


@pytest.mark.parametrize("make", [OrderSummaries, CustomerTotals, DailySales], ids=lambda c: c.name)
def test_a_crash_at_every_point_then_restart_gives_the_from_scratch_read_model(
        store: InMemoryEventStore, read_models: Any, make: Callable[[], Projection]) -> None:
    head = seed_shop_history(store)
    report = crash_everywhere(store, read_models, make, page_size=10, batch_size=7)
    assert report.mismatches == []
    assert set(report.crashes) == set(CRASH_POINTS)
    assert report.crashes["before_apply"] == head  # every event had a crash right before it was applied


def test_a_second_projector_resumes_from_the_committed_checkpoint_without_double_applying(
        store: InMemoryEventStore, read_models: Any) -> None:
    seed_shop_history(store)
    first = Projector(store, read_models, OrderSummaries(), batch_size=3)
    first.catch_up(max_events=6)
    second = Projector(store, read_models, OrderSummaries(), batch_size=3)
    assert second.position == 6
    first_again = first.catch_up()  # the first one now resumes too; no event is applied twice
    assert first_again == store.last_position() - 6
    stale = Projector(store, read_models, OrderSummaries(), batch_size=3)
    stale._position = 0  # pretend it read an old checkpoint: the in-transaction check resyncs it
    assert stale.catch_up() == 0 and stale.position == store.last_position()


# ------------------------------------------------------------------------------------------------ rebuild


class OrderSummariesInEuros(OrderSummaries):
    """A changed projection: totals in whole euros in a new column."""

    name: ClassVar[str] = "order_summaries"

    def setup(self, tx: Tx) -> None:
        super().setup(tx)
        if not tx.execute("SELECT 1 FROM pragma_table_info('order_summaries') WHERE name = 'euros'").fetchone():
            tx.execute("ALTER TABLE order_summaries ADD COLUMN euros INTEGER NOT NULL DEFAULT 0")

    def on_OrderSubmitted(self, tx: Tx, e: Any, env: Envelope[Message]) -> None:
        super().on_OrderSubmitted(tx, e, env)
        tx.execute("UPDATE order_summaries SET euros = ? WHERE order_id = ?", (e.total_cents // 100, e.order_id))


def test_rebuild_after_changing_the_projection_code(store: InMemoryEventStore, read_models: Any) -> None:
    head = seed_shop_history(store)
    Projector(store, read_models, OrderSummaries()).catch_up()
    changed = Projector(store, read_models, OrderSummariesInEuros(), page_size=6, batch_size=4)
    assert changed.catch_up() == 0  # caught up already: new code does not touch old rows without a rebuild
    assert read_models.query("SELECT sum(euros) FROM order_summaries")[0][0] == 0
    assert changed.rebuild(progress=False) == head
    assert read_models.query("SELECT sum(euros) FROM order_summaries")[0][0] == 3 + 9 + 15 + 21
    assert 0 < changed.stats.batches < head  # batched: several events per transaction


# --------------------------------------------------------------------------------------------------- gaps


def test_a_gap_that_fills_later_is_waited_for_not_skipped(store: InMemoryEventStore, read_models: Any) -> None:
    head = seed_shop_history(store)
    gappy = GappyStore(store)
    gappy.hidden = {5}
    clock = FakeClock()
    projector = Projector(gappy, read_models, OrderSummaries(), gap_policy=WaitForGap(1.0, clock=clock))  # type: ignore[arg-type]
    projector.catch_up()
    assert projector.position == 4 and projector.lag() == head - 4  # stopped before the gap
    clock.now = 0.5
    projector.catch_up()
    assert projector.position == 4
    gappy.hidden.clear()  # the slow transaction commits
    projector.catch_up()
    assert projector.position == head and projector.stats.skipped_gaps == []
    reference = SQLiteReadModels(Path(read_models.path).with_name("ref.db"))
    Projector(store, reference, OrderSummaries()).catch_up()
    assert dump(read_models, OrderSummaries()) == dump(reference, OrderSummaries())


def test_a_gap_that_stays_settled_is_stepped_over_after_a_fresh_read(store: InMemoryEventStore,
                                                                       read_models: Any) -> None:
    head = seed_shop_history(store)
    gappy = GappyStore(store)
    gappy.hidden = {5, 6}  # a rolled-back append: these positions never appear
    clock = FakeClock()
    projector = Projector(gappy, read_models, CustomerTotals(), gap_policy=WaitForGap(1.0, clock=clock))  # type: ignore[arg-type]
    projector.catch_up()
    assert projector.position == 4
    clock.now = 1.0
    projector.catch_up()
    assert projector.position == head and projector.stats.skipped_gaps == [(5, 6)]


def test_a_gap_that_fills_just_as_it_settles_is_not_skipped(store: InMemoryEventStore, read_models: Any) -> None:
    seed_shop_history(store)
    gappy = GappyStore(store)
    gappy.hidden = {3}

    class FillsWhenAsked:
        def settled(self, first: int, last: int) -> bool:
            gappy.hidden.clear()  # the transaction commits right after our read, right as we decide
            return True

        def forget_below(self, position: int) -> None:
            pass

    projector = Projector(gappy, read_models, OrderSummaries(), gap_policy=FillsWhenAsked())  # type: ignore[arg-type]
    projector.catch_up()
    assert projector.position == store.last_position() and projector.stats.skipped_gaps == []
    assert read_models.query("SELECT count(*) FROM order_summary_lines")[0][0] > 0


def test_gaps_below_the_policys_settled_horizon_are_stepped_over_in_one_read(store: InMemoryEventStore,
                                                                            read_models: Any) -> None:
    head = seed_shop_history(store)
    gappy = GappyStore(store)
    gappy.hidden = {3, 5, 6, 9}  # rolled back long ago

    class KnowsTheHorizon:
        def settled_through(self) -> int:
            return 9

        def settled(self, first: int, last: int) -> bool:
            raise AssertionError(f"asked about {first}..{last}, below the horizon the projector already knew")

        def forget_below(self, position: int) -> None:
            pass

    projector = Projector(gappy, read_models, CustomerTotals(), gap_policy=KnowsTheHorizon())  # type: ignore[arg-type]
    projector.catch_up()
    assert projector.position == head and gappy.reads == 1  # no wait and no second read per gap
    assert projector.stats.skipped_gaps == [(3, 3), (5, 6), (9, 9)]


def test_a_horizon_learnt_after_a_read_is_used_only_from_the_next_read(store: InMemoryEventStore,
                                                                         read_models: Any) -> None:
    head = seed_shop_history(store)
    gappy = GappyStore(store)
    gappy.hidden = {3}

    class LearnsLate:
        through = 0

        def settled_through(self) -> int:
            return self.through

        def settled(self, first: int, last: int) -> bool:
            self.through = 100  # settled now, but the page in hand was read before: it proves nothing about 3
            return False

        def forget_below(self, position: int) -> None:
            pass

    projector = Projector(gappy, read_models, OrderSummaries(), gap_policy=LearnsLate())  # type: ignore[arg-type]
    projector.catch_up()
    assert projector.position == 2 and projector.status().waiting_for == (3, 3)
    projector.catch_up()
    assert projector.position == head and projector.stats.skipped_gaps == [(3, 3)]
    assert projector.status().waiting_for is None


# ------------------------------------------------------------------------------------- concurrent appends


def test_concurrent_appends_while_the_worker_runs_lose_nothing(tmp_path: Path, read_models: Any) -> None:
    store = SQLiteEventStore(tmp_path / "events.db")
    bus = register_shop_handlers(CommandBus(store))
    projector = Projector(store, read_models, OrderSummaries(), page_size=7, batch_size=3).start(poll_interval=0.005)
    errors: list[BaseException] = []

    def writer(w: int) -> None:
        try:
            for i in range(15):
                oid = f"w{w}-{i}"
                bus.dispatch(PlaceOrder(order_id=oid, customer_id=f"c{w}"))
                bus.dispatch(AddItem(order_id=oid, sku="mug", quantity=1, unit_price_cents=100 + i))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(3)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert errors == []
        projector.wait_for_position(store.last_position(), timeout=15)
    finally:
        projector.stop()
    assert store.last_position() == 90
    reference = SQLiteReadModels(tmp_path / "reference.db")
    Projector(store, reference, OrderSummaries()).catch_up()
    assert dump(read_models, OrderSummaries()) == dump(reference, OrderSummaries())
    assert wait_until(lambda: read_models.checkpoint("order_summaries") == 90, timeout=1)
    store.close()
    reference.close()


# ------------------------------------------------------------------------------------------- clear errors


def test_bad_settings_are_clear_errors(store: InMemoryEventStore, read_models: Any, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="page_size and batch_size must be >= 1"):
        Projector(store, read_models, OrderSummaries(), batch_size=0)
    with pytest.raises(CourseError, match="needs a file path"):
        SQLiteReadModels(":memory:")
    with pytest.raises(ValueError, match="synchronous must be"):
        SQLiteReadModels(tmp_path / "x.db", synchronous="SOMETIMES")


def test_an_unreachable_postgres_names_the_url_and_the_fix() -> None:
    from course_lib.projections import PostgresReadModels

    with pytest.raises(ServiceUnavailable) as raised:
        PostgresReadModels("postgresql://postgres@127.0.0.1:1/test")
    assert "127.0.0.1:1" in str(raised.value) and "How to fix" in str(raised.value)
