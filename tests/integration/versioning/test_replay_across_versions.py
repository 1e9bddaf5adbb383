"""A replay across versions on real event stores: three releases write one stream, today's code reads it.

Each release opens the store with its own registry (the classes it had); today's registry adds the upcasters.
The state folded from the mixed stream must equal the state folded from the same history written with today's
classes only — on the SQLite file and on the real PostgreSQL server.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from course_lib.errors import CourseError
from course_lib.eventstore import InMemoryEventStore, SQLiteEventStore
from course_lib.messages import Envelope, Event, Message, RawEvent, Registry
from course_lib.versioning import add_field, rename_field

OpenStore = Callable[[Registry], Any]


class PlacedV1(Event):
    order_id: str
    address: str | None = None


class ItemAddedV1(Event):
    order_id: str
    qty: int


class ItemAddedV2(Event):
    schema_version: ClassVar[int] = 2
    order_id: str
    qty: int
    currency: str


class Placed(Event):
    schema_version: ClassVar[int] = 2
    order_id: str


class AddressChosen(Event):
    order_id: str
    address: str


class ItemAdded(Event):
    schema_version: ClassVar[int] = 3
    order_id: str
    quantity: int
    currency: str


def split(raw: RawEvent) -> list[RawEvent]:
    placed = RawEvent("Placed", 2, {"order_id": raw.data["order_id"]})
    if raw.data.get("address") is None:
        return [placed]
    return [placed, RawEvent("AddressChosen", 1, {"order_id": raw.data["order_id"], "address": raw.data["address"]})]


def releases() -> tuple[Registry, Registry, Registry]:
    v1, v2, today = Registry(), Registry(), Registry()
    v1.add(PlacedV1, name="Placed")
    v1.add(ItemAddedV1, name="ItemAdded")
    v2.add(Placed)
    v2.add(AddressChosen)
    v2.add(ItemAddedV2, name="ItemAdded")
    for cls in (Placed, AddressChosen, ItemAdded):
        today.add(cls)
    today.add_upcaster("ItemAdded", 1, add_field("currency", "EUR", to_version=2))
    today.add_upcaster("ItemAdded", 2, rename_field("qty", "quantity", to_version=3))
    today.add_upcaster("Placed", 1, split)
    return v1, v2, today


def fold(events: list[Envelope[Message]]) -> dict[str, dict[str, Any]]:
    state: dict[str, dict[str, Any]] = {}
    for env in events:
        match env.message:
            case Placed(order_id=order):
                state[order] = {"address": None, "items": 0, "currencies": set()}
            case AddressChosen(order_id=order, address=address):
                state[order]["address"] = address
            case ItemAdded(order_id=order, quantity=quantity, currency=currency):
                state[order]["items"] += quantity
                state[order]["currencies"].add(currency)
            case other:
                raise AssertionError(f"today's fold got an old class: {type(other).__name__}")
    return state


@pytest.fixture(params=["sqlite", "postgres"])
def open_store(
    request: pytest.FixtureRequest, tmp_path: Path, unique_name: Callable[[str], str]
) -> Iterator[OpenStore]:
    opened: list[Any] = []
    if request.param == "sqlite":
        def make(reg: Registry) -> Any:
            opened.append(SQLiteEventStore(tmp_path / "shop.db", registry=reg))
            return opened[-1]
    else:
        from course_lib.eventstore.postgres import PostgresEventStore

        url = request.getfixturevalue("postgres_url")
        schema = unique_name("versions")

        def make(reg: Registry) -> Any:
            opened.append(PostgresEventStore(url, schema=schema, registry=reg))
            return opened[-1]
    yield make
    if request.param == "postgres" and opened:
        opened[0].drop_schema()
    for store in opened:
        store.close()


def write_history(open_store: OpenStore) -> Registry:
    v1, v2, today = releases()
    old = open_store(v1)
    old.append("order-1", [PlacedV1(order_id="1", address="Elm St"), ItemAddedV1(order_id="1", qty=2)])
    old.append("order-2", [PlacedV1(order_id="2"), ItemAddedV1(order_id="2", qty=1)])
    middle = open_store(v2)
    middle.append("order-1", [ItemAddedV2(order_id="1", qty=3, currency="USD")])
    middle.append("order-3", [Placed(order_id="3"), AddressChosen(order_id="3", address="Oak Ave")])
    open_store(today).append("order-1", [ItemAdded(order_id="1", quantity=1, currency="EUR")])
    return today


def test_mixed_stream_replays_to_the_state_of_all_current_events(open_store: OpenStore) -> None:
    today = write_history(open_store)
    mixed = open_store(today).read_all()
    current = InMemoryEventStore(registry=today)
    current.append("order-1", [Placed(order_id="1"), AddressChosen(order_id="1", address="Elm St"),
                               ItemAdded(order_id="1", quantity=2, currency="EUR")])
    current.append("order-2", [Placed(order_id="2"), ItemAdded(order_id="2", quantity=1, currency="EUR")])
    current.append("order-1", [ItemAdded(order_id="1", quantity=3, currency="USD")])
    current.append("order-3", [Placed(order_id="3"), AddressChosen(order_id="3", address="Oak Ave")])
    current.append("order-1", [ItemAdded(order_id="1", quantity=1, currency="EUR")])
    assert fold(mixed) == fold(current.read_all()) == {
        "1": {"address": "Elm St", "items": 6, "currencies": {"EUR", "USD"}},
        "2": {"address": None, "items": 1, "currencies": {"EUR"}},
        "3": {"address": "Oak Ave", "items": 0, "currencies": set()},
    }
    assert [e.metadata.schema_version for e in mixed] == [type(e.message).schema_version for e in mixed]
    stream = open_store(today).read_stream("order-1")
    assert [(e.type, e.metadata.stream_version) for e in stream] == [
        ("Placed", 1), ("AddressChosen", 1), ("ItemAdded", 2), ("ItemAdded", 3), ("ItemAdded", 4)]


def test_a_missing_upcaster_fails_loudly_naming_the_event(open_store: OpenStore) -> None:
    write_history(open_store)
    forgot = Registry()
    for cls in (Placed, AddressChosen, ItemAdded):
        forgot.add(cls)
    forgot.add_upcaster("Placed", 1, split)
    forgot.add_upcaster("ItemAdded", 1, add_field("currency", "EUR", to_version=2))  # v2 → v3 forgotten
    with pytest.raises(CourseError, match=r"(?s)order-1.*quantity"):
        open_store(forgot).read_stream("order-1")
