from __future__ import annotations

import pytest

from course_lib.clock import FixedStepClock, SequentialIds
from course_lib.errors import CourseError
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
