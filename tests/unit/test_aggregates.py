"""The repository: load/save with expected versions, snapshots, retries — on the memory and SQLite stores."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from course_lib.aggregates import SNAPSHOT_SCHEMA_KEY, Aggregate, AggregateNotFound, DomainError, Repository, handles
from course_lib.clock import FixedStepClock, SequentialIds
from course_lib.eventstore import ConcurrencyError, InMemoryEventStore, SQLiteEventStore
from course_lib.eventstore.base import EventStore, Snapshot
from course_lib.messages import Event, envelope, registry
from course_lib.shop.order import Order


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EventStore]:
    store: EventStore = (InMemoryEventStore() if request.param == "memory"
                         else SQLiteEventStore(tmp_path / "e.db", synchronous="NORMAL"))
    yield store
    store.close()


def new_order(repo: Repository[Order], order_id: str = "o1", items: int = 1) -> Order:
    order = Order.create(order_id, "c1")
    for i in range(items):
        order.add_item(f"sku{i}", 1, 100)
    repo.save(order)
    return order


def test_save_then_load_gives_the_same_state(store: EventStore) -> None:
    repo = Repository(store, Order)
    order = new_order(repo, items=2)
    assert order.pending_events == [] and store.stream_version("order-o1") == 3
    loaded = repo.load("o1")
    assert loaded.summary() == order.summary() and loaded.version == 3
    with pytest.raises(AggregateNotFound, match="order-nope"):
        repo.load("nope")


def test_two_writers_from_the_same_version_one_wins(store: EventStore) -> None:
    repo = Repository(store, Order)
    new_order(repo)
    first, second = repo.load("o1"), repo.load("o1")
    first.add_item("tea", 1, 450)
    second.submit()
    repo.save(first)
    with pytest.raises(ConcurrencyError) as info:
        repo.save(second)
    assert (info.value.expected, info.value.actual) == (2, 3)
    assert repo.load("o1").status == "draft"  # the loser's submit was not stored


def test_update_retries_on_a_conflict(store: EventStore) -> None:
    repo = Repository(store, Order)
    new_order(repo)
    attempts: list[int] = []

    def add_tea(order: Order) -> None:
        attempts.append(order.version)
        if len(attempts) == 1:  # a competing writer saves between our load and our save
            rival = repo.load("o1")
            rival.add_item("mug", 1, 900)
            repo.save(rival)
        order.add_item("tea", 1, 450)

    result = repo.update("o1", add_tea)
    assert attempts == [2, 3] and result.version == 4
    assert set(repo.load("o1").items) == {"sku0", "mug", "tea"}


def test_a_new_aggregate_expects_no_stream(store: EventStore) -> None:
    repo = Repository(store, Order)
    new_order(repo)
    with pytest.raises(ConcurrencyError):
        repo.save(Order.create("o1", "someone else"))


def test_snapshots_every_n_events_and_loading_from_them(store: EventStore) -> None:
    repo = Repository(store, Order, snapshot_every=10)
    order = new_order(repo, items=24)  # one save of 25 events crosses 10 and 20: one snapshot, at 25
    snapshot = store.load_snapshot("order-o1")
    assert snapshot is not None and snapshot.version == 25 and snapshot.type == "Order"
    order.add_item("extra", 1, 1)
    repo.save(order)
    assert store.load_snapshot("order-o1").version == 25  # type: ignore[union-attr]  # 26 crossed no multiple
    with_snapshot, without = repo.load("o1"), repo.load("o1", use_snapshot=False)
    assert with_snapshot.summary() == without.summary() == order.summary()


def test_load_at_an_older_version_ignores_a_newer_snapshot(store: EventStore) -> None:
    repo = Repository(store, Order, snapshot_every=5)
    new_order(repo, items=9)
    at_three = repo.load("o1", version=3)
    assert at_three.version == 3 and set(at_three.items) == {"sku0", "sku1"}


def test_a_snapshot_proves_it_is_used(store: EventStore) -> None:
    repo = Repository(store, Order)
    order = new_order(repo, items=3)
    snapshot = repo.save_snapshot(order)
    # a snapshot whose state differs from the events shows that load starts from it
    doctored = snapshot.model_copy(update={"state": {**snapshot.state, "customer_id": "from-snapshot"}})
    store.save_snapshot(doctored)
    assert repo.load("o1").customer_id == "from-snapshot"
    assert repo.load("o1", use_snapshot=False).customer_id == "c1"


def test_an_aggregate_loaded_from_a_snapshot_never_changes_the_snapshot(store: EventStore) -> None:
    repo = Repository(store, Order)
    repo.save_snapshot(new_order(repo, items=2))
    first, second = repo.load("o1"), repo.load("o1")
    first.add_item("sku0", 5, 100)  # a line that came from the snapshot
    assert first.items["sku0"]["quantity"] == 6 and second.items["sku0"]["quantity"] == 1
    assert store.load_snapshot("order-o1").state["items"]["sku0"]["quantity"] == 1  # type: ignore[union-attr]
    held = store.load_snapshot("order-o1")  # a snapshot the caller keeps and rehydrates from twice
    assert held is not None
    Order.rehydrate("o1", [], snapshot=held).add_item("sku1", 2, 100)
    assert held.state["items"]["sku1"]["quantity"] == 1
    assert Order.rehydrate("o1", [], snapshot=held).items["sku1"]["quantity"] == 1


def test_save_sets_correlation_and_causation_from_the_command(store: EventStore) -> None:
    from course_lib.shop.events import OrderCreated

    clock, ids = FixedStepClock(), SequentialIds(100)
    repo = Repository(store, Order, clock=clock, ids=ids)
    command = envelope(OrderCreated(order_id="x", customer_id="c"), ids=SequentialIds(1))
    order = Order.create("o1", "c1")
    repo.save(order, caused_by=command)
    stored = store.read_stream("order-o1")[0]
    assert stored.metadata.causation_id == command.message_id
    assert stored.metadata.correlation_id == command.metadata.correlation_id
    assert repo.save(order) is None  # nothing pending


def test_snapshot_with_pending_events_and_bad_settings_are_refused(store: EventStore) -> None:
    repo = Repository(store, Order)
    with pytest.raises(DomainError, match="pending"):
        repo.save_snapshot(Order.create("o1", "c1"))
    with pytest.raises(ValueError, match="snapshot_every"):
        Repository(store, Order, snapshot_every=0)


def test_a_snapshot_that_no_longer_fits_is_skipped_and_the_stream_replayed(store: EventStore) -> None:
    repo = Repository(store, Order)
    order = new_order(repo, items=3)
    snapshot = repo.save_snapshot(order)
    damaged = {"status": "draft", SNAPSHOT_SCHEMA_KEY: Order.snapshot_schema}  # the right schema, fields missing
    store.save_snapshot(snapshot.model_copy(update={"state": damaged}))
    loaded = repo.load("o1")
    assert loaded.summary() == order.summary() and repo.events_replayed == 4
    assert len(repo.snapshot_failures) == 1 and "KeyError" in repo.snapshot_failures[0]
    repo.save_snapshot(loaded)
    repo.load("o1")
    assert repo.events_replayed == 0 and len(repo.snapshot_failures) == 1


@registry.register
class TillPaid(Event):
    order_id: str
    amount_cents: int


def _till(schema: int, divisor: int) -> type[Aggregate]:
    """Two releases of one aggregate: same name, same snapshot shape — ``total`` in cents, then in euros."""

    class Till(Aggregate):
        stream_prefix = "till"
        snapshot_schema = schema

        def __init__(self, aggregate_id: str) -> None:
            super().__init__(aggregate_id)
            self.total = 0

        @handles(TillPaid)
        def _paid(self, event: TillPaid) -> None:
            self.total += event.amount_cents // divisor

        def snapshot_state(self) -> dict[str, Any]:
            return {"total": self.total}

        def restore_state(self, state: dict[str, Any]) -> None:
            self.total = state["total"]

    return Till


def test_a_snapshot_whose_meaning_changed_is_discarded_not_used_silently(store: EventStore) -> None:
    in_cents, in_euros = _till(1, 1), _till(2, 100)
    old_repo = Repository(store, in_cents)
    till = in_cents("t1")
    till.record(TillPaid(order_id="o1", amount_cents=1250))
    till.record(TillPaid(order_id="o2", amount_cents=750))
    old_repo.save(till)
    old_repo.save_snapshot(till)  # {"total": 2000}: cents, the old meaning — the shape still loads today

    new_repo = Repository(store, in_euros)
    loaded = new_repo.load("t1")
    assert loaded.total == 19 and new_repo.events_replayed == 2  # 12 + 7 euros, replayed from the events
    assert new_repo.snapshot_failures == ["till-t1 v2: written under snapshot schema 1, Till is at schema 2: discarded"]
    new_repo.save_snapshot(loaded)
    assert new_repo.load("t1").total == 19 and new_repo.events_replayed == 0  # the fresh snapshot is used


def test_a_snapshot_without_a_schema_is_discarded(store: EventStore) -> None:
    repo = Repository(store, Order)
    order = new_order(repo, items=2)
    unmarked = {k: v for k, v in repo.save_snapshot(order).state.items() if k != SNAPSHOT_SCHEMA_KEY}
    store.save_snapshot(Snapshot(stream_id="order-o1", version=3, type="Order", state=unmarked))
    assert repo.load("o1").summary() == order.summary() and repo.events_replayed == 3
    assert "no snapshot schema" in repo.snapshot_failures[0]
