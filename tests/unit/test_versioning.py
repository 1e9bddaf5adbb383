from __future__ import annotations

from pathlib import Path

import pytest

from course_lib.clock import FixedStepClock, SequentialIds
from course_lib.errors import CourseError
from course_lib.eventstore import StoredEventCorrupt
from course_lib.eventstore.sqlite import SQLiteEventStore
from course_lib.messages import (
    Event,
    MalformedMessage,
    RawEvent,
    Registry,
    envelope,
    from_dict,
    from_dict_all,
    to_dict,
)
from course_lib.versioning import add_field, rename_field, rename_type, transform, upcaster


class ItemAddedV1(Event):
    order_id: str
    price: float


class OrderItemAdded(Event):
    schema_version = 3
    order_id: str
    unit_price_cents: int
    currency: str


class AddressChanged(Event):
    customer_id: str
    street: str


class CustomerMoved(Event):
    customer_id: str
    street: str


class CustomerRenamed(Event):
    customer_id: str
    name: str


def _stored(message: Event, type_name: str, version: int) -> dict:
    data = to_dict(envelope(message, clock=FixedStepClock(), ids=SequentialIds(), stream_id="order-1"))
    data["metadata"]["type"] = type_name
    data["metadata"]["schema_version"] = version
    data["metadata"]["stream_version"] = 7
    return data


def _registry() -> Registry:
    reg = Registry()
    reg.add(OrderItemAdded)
    reg.add_upcaster("OrderItemAdded", 1, add_field("currency", "EUR", to_version=2))
    reg.add_upcaster("OrderItemAdded", 2, transform(
        lambda d: {"order_id": d["order_id"], "currency": d["currency"], "unit_price_cents": round(d["price"] * 100)},
        to_version=3))
    return reg


def test_chain_upgrades_an_old_event_to_the_current_class() -> None:
    stored = _stored(ItemAddedV1(order_id="o1", price=12.5), "OrderItemAdded", 1)
    env = from_dict(stored, _registry())
    assert env.message == OrderItemAdded(order_id="o1", unit_price_cents=1250, currency="EUR")
    assert env.metadata.schema_version == 3
    assert env.metadata.stream_version == 7  # position in the stream is the stored event's


def test_current_events_pass_through_unchanged() -> None:
    reg = _registry()
    current = to_dict(envelope(OrderItemAdded(order_id="o", unit_price_cents=1, currency="USD")))
    assert from_dict(current, reg).message.currency == "USD"  # type: ignore[attr-defined]


def test_steps_show_each_stage() -> None:
    steps = _registry().upcast_steps(RawEvent("OrderItemAdded", 1, {"order_id": "o", "price": 1.0}))
    assert [s[0].schema_version for s in steps] == [1, 2, 3]
    assert steps[1][0].data["currency"] == "EUR"


def test_split_and_rename() -> None:
    reg = Registry()
    reg.add(CustomerMoved)
    reg.add(CustomerRenamed)
    reg.add_upcaster("AddressChanged", 1, rename_type("CustomerMoved", to_version=2))

    @upcaster("CustomerUpdated", 1, reg)
    def split(raw: RawEvent) -> list[RawEvent]:
        return [RawEvent("CustomerRenamed", 2, {"customer_id": raw.data["id"], "name": raw.data["name"]}),
                RawEvent("CustomerMoved", 2, {"customer_id": raw.data["id"], "street": raw.data["street"]})]

    moved = from_dict(_stored(AddressChanged(customer_id="c", street="Main St"), "AddressChanged", 1), reg)
    assert isinstance(moved.message, CustomerMoved)
    old = _stored(AddressChanged(customer_id="c", street="x"), "CustomerUpdated", 1)
    old["data"] = {"id": "c", "name": "Ada", "street": "Elm St"}
    both = from_dict_all(old, reg)
    assert [type(e.message).__name__ for e in both] == ["CustomerRenamed", "CustomerMoved"]
    assert len({e.message_id for e in both}) == 2
    assert both == from_dict_all(old, reg)  # derived ids are stable across reads
    with pytest.raises(MalformedMessage, match="upcasts into 2 events"):
        from_dict(old, reg)


def test_rename_field_and_guards() -> None:
    reg = Registry()
    reg.add_upcaster("X", 1, rename_field("a", "b", to_version=2))
    assert reg.upcast(RawEvent("X", 1, {"a": 1})) == [RawEvent("X", 2, {"b": 1})]
    with pytest.raises(CourseError, match="already registered"):
        reg.add_upcaster("X", 1, rename_field("a", "b", to_version=2))
    reg.add_upcaster("Y", 1, rename_field("a", "b", to_version=1))
    with pytest.raises(CourseError, match="newer schema_version"):
        reg.upcast(RawEvent("Y", 1, {}))


def test_field_changes_name_what_a_step_did() -> None:
    from course_lib.versioning import field_changes

    before = RawEvent("X", 1, {"a": 1, "qty": 2, "price": 1.5, "gone": True})
    after = RawEvent("X", 2, {"a": 1, "quantity": 2, "price": 150, "currency": "EUR"})
    changes = field_changes(before, after)
    assert changes.renamed == (("qty", "quantity"),)
    assert changes.added == ("currency",) and changes.removed == ("gone",) and changes.changed == ("price",)
    assert changes.touched == {"quantity", "price", "currency"} and not changes.type_changed
    assert changes.describe() == "+currency, -gone, qty→quantity, ~price"
    assert field_changes(before, before).describe() == "no data change"


def test_upcast_stages_link_split_events_to_their_parent() -> None:
    from course_lib.versioning import upcast_stages

    reg = _registry()
    reg.add_upcaster("CustomerUpdated", 1, lambda raw: [
        RawEvent("CustomerRenamed", 1, {"customer_id": raw.data["id"], "name": raw.data["name"]}),
        RawEvent("OrderItemAdded", 1, {"order_id": "o", "price": 2.0})])  # a split whose half needs upcasting too
    stages = upcast_stages(RawEvent("CustomerUpdated", 1, {"id": "c", "name": "Ada"}), reg)
    assert [[(s.event.type, s.event.schema_version) for s in stage] for stage in stages] == [
        [("CustomerUpdated", 1)],
        [("CustomerRenamed", 1), ("OrderItemAdded", 1)],
        [("CustomerRenamed", 1), ("OrderItemAdded", 2)],
        [("CustomerRenamed", 1), ("OrderItemAdded", 3)],
    ]
    renamed, item = stages[2]
    assert renamed.parent is renamed.event and renamed.changes.describe() == "no data change"  # carried over
    assert item.parent == RawEvent("OrderItemAdded", 1, {"order_id": "o", "price": 2.0})
    assert item.changes.added == ("currency",)
    assert stages[1][0].changes.renamed == (("id", "customer_id"),) and stages[1][0].changes.type_changed
    assert [s.event for s in stages[-1]] == reg.upcast(stages[0][0].event)


def test_read_raw_sqlite_shows_events_as_stored(tmp_path: Path) -> None:
    from course_lib.versioning import read_raw_sqlite

    class LastYearsItemAdded(Event):
        order_id: str
        price: float

    old = Registry()
    old.add(LastYearsItemAdded, name="OrderItemAdded")  # last year's class, stored under today's type name
    path = tmp_path / "events.db"
    with SQLiteEventStore(path, registry=old) as store:  # last year's release wrote order 1 …
        store.append("order-1", [LastYearsItemAdded(order_id="o1", price=2.5)])
    with SQLiteEventStore(path, registry=_registry()) as store:  # … and today's release order 2
        store.append("order-2", [OrderItemAdded(order_id="o2", unit_price_cents=100, currency="USD")])
    rows = read_raw_sqlite(path)
    assert [(r.position, r.stream_id, r.version) for r in rows] == [(1, "order-1", 1), (2, "order-2", 1)]
    assert rows[0].raw == RawEvent("OrderItemAdded", 1, {"order_id": "o1", "price": 2.5})
    assert rows[1].raw.schema_version == 3
    assert rows[0].label == "#1 order-1 v1 · OrderItemAdded (schema v1)"
    with pytest.raises(FileNotFoundError, match="no event store file"):
        read_raw_sqlite(path.parent / "missing.db")



def test_sqlite_store_upcasts_old_events_on_read(tmp_path: Path) -> None:
    """Last year's code wrote v1 events; today's code reads the same file and gets v3 through the upcasters."""
    path = tmp_path / "events.db"
    old_code = Registry()
    old_code.add(ItemAddedV1, name="OrderItemAdded")
    with SQLiteEventStore(path, registry=old_code) as store:
        store.append("order-1", [ItemAddedV1(order_id="o1", price=12.5), ItemAddedV1(order_id="o1", price=1.0)])
    with SQLiteEventStore(path, registry=_registry()) as store:
        events = store.read_stream("order-1")
        assert [e.message for e in events] == [
            OrderItemAdded(order_id="o1", unit_price_cents=1250, currency="EUR"),
            OrderItemAdded(order_id="o1", unit_price_cents=100, currency="EUR"),
        ]
        assert [e.metadata.stream_version for e in events] == [1, 2]
        assert [e.metadata.schema_version for e in store.read_all()] == [3, 3]


def test_an_old_version_without_its_upcaster_fails_loudly(tmp_path: Path) -> None:
    """Fields that happen to fit are not enough: a v1 row read by v3 code needs an upcaster."""
    path = tmp_path / "events.db"
    old_code = Registry()
    old_code.add(ItemAddedV1, name="OrderItemAdded")
    with SQLiteEventStore(path, registry=old_code) as store:
        store.append("order-1", [ItemAddedV1(order_id="o1", price=1.0)])
    forgetful = Registry()
    forgetful.add(ItemAddedV1, name="OrderItemAdded")
    ItemAddedV1.schema_version = 2  # today's class claims v2 but nobody registered the v1 -> v2 upcaster
    try:
        with SQLiteEventStore(path, registry=forgetful) as store, pytest.raises(
            StoredEventCorrupt, match="stored as schema v1 but the class is v2: register an upcaster from v1"
        ):
            store.read_stream("order-1")
    finally:
        ItemAddedV1.schema_version = 1
