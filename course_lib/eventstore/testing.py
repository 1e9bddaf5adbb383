"""The backend-independent test suite: one abstract class, subclassed once per backend.

A backend's test module subclasses ``EventStoreContract`` (or ``SQLEventStoreContract`` for backends that
store JSON text, with ``corrupt``/``unknown_type`` fixtures that damage a stored row) and provides a ``store``
fixture. Every rule of ``base.EventStore`` is checked here, so a new backend is correct when this suite passes
on it. Needs pytest (a dev dependency).
"""

from __future__ import annotations

import math
import threading
import uuid
from collections.abc import Callable
from typing import Any, ClassVar

import pytest
from pydantic import Field

from course_lib.clock import FixedStepClock, SequentialIds
from course_lib.eventstore.base import (
    ANY,
    NO_STREAM,
    ConcurrencyError,
    EventNotStorable,
    EventStore,
    Snapshot,
    SnapshotNotStorable,
    StoredEventCorrupt,
)
from course_lib.messages import Envelope, Event, Message, UnknownMessageType, envelope, registry


@registry.register
class CartOpened(Event):
    """A neutral sample event (the contract must not depend on the course's sample shop)."""

    cart_id: str
    owner: str


@registry.register
class CartItemAdded(Event):
    """A neutral sample event with required and constrained fields."""

    cart_id: str
    sku: str
    quantity: int = Field(gt=0)
    unit_price_cents: int = Field(ge=0)


@registry.register
class CartCheckedOut(Event):
    """A neutral sample event."""

    cart_id: str
    total_cents: int = Field(ge=0)


def item(cart: str = "o1", sku: str = "mug", quantity: int = 1) -> CartItemAdded:
    """A small event for tests."""
    return CartItemAdded(cart_id=cart, sku=sku, quantity=quantity, unit_price_cents=100)


def opened(cart: str = "1") -> CartOpened:
    """The first event of a sample stream."""
    return CartOpened(cart_id=cart, owner="c")


@registry.register
class ReadingTaken(Event):
    """A registered probe event with the values JSON cannot always carry: floats, and a field of any type."""

    sensor: str
    value: float
    history: tuple[float, ...] = ()
    note: Any = None


class ParcelTeleported(Event):
    """A probe event that is deliberately never registered."""

    order_id: str


def every_read(store: Any, stream_id: str) -> list[Callable[[], object]]:
    """Each way a backend reads a stream back, so that damage is refused the same way by all of them."""
    reads: list[Callable[[], object]] = [lambda: store.read_stream(stream_id), lambda: store.read_all()]
    if hasattr(store, "read_messages"):
        reads.append(lambda: store.read_messages(stream_id))
    return reads


class EventStoreContract:
    """Subclass this and provide a ``store`` fixture returning a fresh, empty store."""

    gap_free_positions: ClassVar[bool] = True  # False for PostgreSQL: a rolled-back append burns its positions

    # --- append and read -------------------------------------------------------------------------------

    def test_is_an_event_store(self, store: EventStore) -> None:
        assert isinstance(store, EventStore)

    def test_empty_store(self, store: EventStore) -> None:
        assert store.last_position() == 0
        assert store.stream_version("order-x") == 0
        assert store.read_stream("order-x") == []
        assert store.read_all() == []
        assert store.load_snapshot("order-x") is None

    def test_append_then_read_stream_in_version_order(self, store: EventStore) -> None:
        result = store.append("order-1", [opened(), item("1"), item("1", "tea")],
                              NO_STREAM)
        assert (result.stream_id, result.stream_version, result.position) == ("order-1", 3, 3)
        events = store.read_stream("order-1")
        assert [e.metadata.stream_version for e in events] == [1, 2, 3]
        assert [e.metadata.position for e in events] == [1, 2, 3]
        assert all(e.metadata.stream_id == "order-1" for e in events)
        assert [type(e.message).__name__ for e in events] == ["CartOpened", "CartItemAdded", "CartItemAdded"]
        assert store.read_stream("order-1", from_version=2, limit=1)[0].message == item("1")
        assert store.stream_version("order-1") == 3

    def test_every_sample_event_round_trips_exactly(self, store: EventStore) -> None:
        clock, ids = FixedStepClock(), SequentialIds()
        samples: list[Event] = [
            CartOpened(cart_id="1", owner="changed mind — «ünïcødé» ✓"), item("1", "mug", 2),
            CartCheckedOut(cart_id="1", total_cents=2500), ReadingTaken(sensor="s1", value=0.1, history=(1.5,)),
        ]
        originals: list[Envelope[Message]] = [
            envelope(event, clock=clock, ids=ids, correlation_id=uuid.UUID(int=99), causation_id=uuid.UUID(int=98))
            for event in samples
        ]
        store.append("mixed-1", originals, NO_STREAM)
        back = store.read_stream("mixed-1")
        assert len(back) == len(samples)
        for version, (original, read) in enumerate(zip(originals, back, strict=True), start=1):
            assert read == original.with_metadata(stream_id="mixed-1", stream_version=version, position=version)
            assert type(read.message) is type(original.message)

    def test_global_order_across_streams_and_pages(self, store: EventStore) -> None:
        for i in range(7):
            store.append(f"order-{i % 3}", [item(str(i % 3), f"sku{i}")])
        assert store.last_position() == 7
        everything = store.read_all()
        assert [e.metadata.position for e in everything] == list(range(1, 8))
        assert [e.message.sku for e in everything] == [f"sku{i}" for i in range(7)]  # type: ignore[attr-defined]
        pages, position = [], 1
        while page := store.read_all(from_position=position, limit=3):
            pages.append([e.metadata.position for e in page])
            position = page[-1].metadata.position + 1  # type: ignore[operator]
        assert pages == [[1, 2, 3], [4, 5, 6], [7]]
        assert [e.metadata.stream_version for e in store.read_all() if e.metadata.stream_id == "order-0"] == [1, 2, 3]

    def test_bare_messages_are_wrapped_and_envelopes_keep_their_metadata(self, store: EventStore) -> None:
        correlation = uuid.uuid4()
        env: Envelope[Message] = envelope(item(), correlation_id=correlation)
        store.append("order-1", [env, item("1", "tea")])
        first, second = store.read_stream("order-1")
        assert first.message_id == env.message_id and first.metadata.correlation_id == correlation
        assert second.metadata.correlation_id == second.message_id  # a new message starts its own conversation

    def test_empty_append_changes_nothing(self, store: EventStore) -> None:
        store.append("order-1", [item()])
        result = store.append("order-1", [], 1)
        assert result.stream_version == 1 and store.last_position() == 1

    # --- optimistic concurrency ------------------------------------------------------------------------

    def test_stale_expected_version_raises_and_writes_nothing(self, store: EventStore) -> None:
        store.append("order-1", [item(), item()], NO_STREAM)
        with pytest.raises(ConcurrencyError) as info:
            store.append("order-1", [item()], 1)
        assert (info.value.stream_id, info.value.expected, info.value.actual) == ("order-1", 1, 2)
        assert "'order-1'" in str(info.value) and "version 2" in str(info.value) and "1" in str(info.value)
        assert store.stream_version("order-1") == 2 and store.last_position() == 2
        assert store.append("order-1", [item()], 2).stream_version == 3

    def test_no_stream_and_any(self, store: EventStore) -> None:
        store.append("order-1", [item()], NO_STREAM)
        with pytest.raises(ConcurrencyError) as info:
            store.append("order-1", [item()], NO_STREAM)
        assert info.value.expected == NO_STREAM and info.value.actual == 1
        assert store.append("order-1", [item()], ANY).stream_version == 2
        assert store.append("order-2", [item()], 0).stream_version == 1  # 0 also means "new stream"
        with pytest.raises(ConcurrencyError):
            store.append("order-3", [item()], 5)

    @pytest.mark.parametrize("bad", ["3", 1.0, -1, None, True, "latest"])
    def test_expected_version_of_the_wrong_kind_is_a_clear_error(self, store: EventStore, bad: Any) -> None:
        with pytest.raises(ValueError, match="expected_version"):
            store.append("order-1", [item()], bad)
        assert store.last_position() == 0

    def test_bad_arguments_are_clear_errors(self, store: EventStore) -> None:
        with pytest.raises(TypeError, match="list"):
            store.append("order-1", item())  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="Event objects"):
            store.append("order-1", [{"sku": "mug"}])  # type: ignore[list-item]
        with pytest.raises(ValueError, match="stream_id"):
            store.append("", [item()])
        with pytest.raises(ValueError, match="belongs to stream"):
            store.append("order-1", [envelope(item(), stream_id="order-2")])
        assert store.last_position() == 0

    def test_threads_racing_on_one_stream_keep_versions_gap_free(self, store: EventStore) -> None:
        outcomes: list[str] = []
        barrier = threading.Barrier(4)

        def writer(n: int) -> None:
            barrier.wait(timeout=10)
            for i in range(10):
                version = store.stream_version("order-race")
                try:
                    store.append("order-race", [item("race", f"w{n}-{i}")], version)
                    outcomes.append("ok")
                except ConcurrencyError:
                    outcomes.append("conflict")

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert len(outcomes) == 40
        versions = [e.metadata.stream_version for e in store.read_stream("order-race")]
        assert versions == list(range(1, outcomes.count("ok") + 1))

    # --- idempotency -----------------------------------------------------------------------------------

    def test_appending_the_same_event_id_twice_is_a_no_op(self, store: EventStore) -> None:
        env: Envelope[Message] = envelope(item())
        first = store.append("order-1", [env], NO_STREAM)
        again = store.append("order-1", [env], NO_STREAM)  # a retry after a lost reply: same expected version
        assert again == first
        assert len(store.read_stream("order-1")) == 1 and store.last_position() == 1

    def test_duplicates_inside_a_batch_and_partial_retries_are_stored_once(self, store: EventStore) -> None:
        a: Envelope[Message] = envelope(item(sku="a"))
        b: Envelope[Message] = envelope(item(sku="b"))
        store.append("order-1", [a, a])
        assert store.stream_version("order-1") == 1
        store.append("order-1", [a, b], 1)
        assert [e.message_id for e in store.read_stream("order-1")] == [a.message_id, b.message_id]

    def test_a_retry_whose_stored_event_comes_mid_batch_stores_the_rest_once(self, store: Any) -> None:
        a: Envelope[Message] = envelope(item(sku="a"))
        b: Envelope[Message] = envelope(item(sku="b"))
        c: Envelope[Message] = envelope(item(sku="c"))
        store.append("order-1", [b])
        seen: list[Envelope[Message]] = []

        def record(connection: Any, envelopes: list[Envelope[Message]]) -> None:
            seen.extend(envelopes)

        # a is new and comes before b, which is stored: an insert that fails after a's row must leave none behind
        result = store.append("order-1", [a, b, c], ANY, in_transaction=record)
        assert [e.message_id for e in store.read_stream("order-1")] == [b.message_id, a.message_id, c.message_id]
        assert [(e.message_id, e.metadata.stream_version) for e in seen] == [(a.message_id, 2), (c.message_id, 3)]
        positions = [e.metadata.position for e in store.read_all()]
        assert [e.metadata.position for e in seen] == positions[1:] and result.position == positions[-1]
        if self.gap_free_positions:
            assert positions == [1, 2, 3]
        assert result.stream_version == 3

    def test_a_long_batch_whose_stored_event_comes_late_is_stored_whole_and_once(self, store: Any) -> None:
        # 250 events: more than one INSERT statement in the SQL stores; the stored one sits in a later statement,
        # so the earlier statements' rows are already written when the clash comes: they must be neither stored
        # twice nor taken for stored before this append (then in_transaction, an outbox's hook, would miss them)
        events: list[Envelope[Message]] = [envelope(item(sku=f"sku-{i}")) for i in range(250)]
        store.append("order-1", [events[180]])
        seen: list[Envelope[Message]] = []

        def record(connection: Any, envelopes: list[Envelope[Message]]) -> None:
            seen.extend(envelopes)

        result = store.append("order-1", events, ANY, in_transaction=record)
        fresh = [e.message_id for i, e in enumerate(events) if i != 180]
        assert [(e.message_id, e.metadata.stream_version) for e in seen] == list(zip(fresh, range(2, 251), strict=True))
        stored = store.read_stream("order-1")
        assert [e.message_id for e in stored] == [events[180].message_id, *fresh]
        assert [e.metadata.stream_version for e in stored] == list(range(1, 251))
        assert result.stream_version == 250
        if self.gap_free_positions:
            assert [e.metadata.position for e in store.read_all()] == list(range(1, 251))

    # --- atomicity and in_transaction ------------------------------------------------------------------

    def test_in_transaction_sees_stored_envelopes_and_a_failure_writes_nothing(self, store: Any) -> None:
        store.append("order-0", [item("0")])
        seen: list[Envelope[Message]] = []

        def record(connection: Any, envelopes: list[Envelope[Message]]) -> None:
            seen.extend(envelopes)

        store.append("order-1", [item(), item()], NO_STREAM, in_transaction=record)
        assert [(e.metadata.stream_version, e.metadata.position) for e in seen] == [(1, 2), (2, 3)]
        assert all(e.metadata.stream_id == "order-1" for e in seen)

        def explode(connection: Any, envelopes: list[Envelope[Message]]) -> None:
            raise RuntimeError("crash between insert and commit")

        with pytest.raises(RuntimeError, match="crash"):
            store.append("order-1", [item(), item()], 2, in_transaction=explode)
        assert store.stream_version("order-1") == 2 and store.last_position() == 3
        position = store.append("order-2", [item("2")]).position
        if self.gap_free_positions:
            assert position == 4  # the rolled-back append took no position
        else:
            assert position > 3  # an identity column leaves a gap where the rolled-back rows were
        assert [e.metadata.position for e in store.read_all()] == [1, 2, 3, position]

    # --- what an append refuses: exactly the same inputs on every backend, and nothing of the batch is stored ---

    def test_an_unregistered_event_type_is_refused_at_append(self, store: EventStore) -> None:
        store.append("order-1", [item()])
        with pytest.raises(UnknownMessageType) as info:
            store.append("order-1", [item(sku="tea"), ParcelTeleported(order_id="1")])
        text = str(info.value)
        assert "'ParcelTeleported'" in text and "registry.register" in text and "'order-1'" in text
        assert store.stream_version("order-1") == 1 and store.last_position() == 1
        assert [e.message for e in store.read_stream("order-1")] == [item()]  # the stream still reads

    @pytest.mark.parametrize(("field", "reading"), [
        ("value", {"value": math.nan}),
        ("value", {"value": math.inf}),
        ("value", {"value": -math.inf}),
        ("history.1", {"value": 1.0, "history": (0.5, math.nan)}),
        ("note.level", {"value": 1.0, "note": {"level": -math.inf}}),
    ])
    def test_non_finite_numbers_are_refused_naming_type_field_and_stream(
        self, store: EventStore, field: str, reading: dict[str, Any]
    ) -> None:
        good = ReadingTaken(sensor="s1", value=20.5)
        with pytest.raises(EventNotStorable) as info:
            store.append("meter-1", [good, ReadingTaken(sensor="s1", **reading)])
        assert (info.value.stream_id, info.value.type_name, info.value.field) == ("meter-1", "ReadingTaken", field)
        assert "finite" in str(info.value) and f"'{field}'" in str(info.value) and "'meter-1'" in str(info.value)
        assert store.last_position() == 0 and store.read_stream("meter-1") == []

    def test_finite_floats_of_every_size_are_stored_and_read_back_exactly(self, store: EventStore) -> None:
        readings = [ReadingTaken(sensor="s1", value=v, history=(0.1, -0.0, 5e-324), note={"scale": 1e-300})
                    for v in (1.7976931348623157e308, -2.5, 0.0)]
        store.append("meter-1", readings)
        assert [e.message for e in store.read_stream("meter-1")] == readings

    def test_text_of_every_kind_is_stored_and_read_back_exactly(self, store: EventStore) -> None:
        # what an array literal or a JSON string must escape: quotes, backslashes, braces, commas, the word NULL,
        # line breaks, control characters, text outside the Basic Multilingual Plane, and nothing at all
        skus = ['a "quoted" sku', "back\\slash", "{braces},commas", "NULL", "", "two\nlines\ttab\r",
                "\x01\x1f", "caf\u00e9 \u6f22\u5b57 \U0001f600", "'single'"]
        events = [item(sku=sku) for sku in skus] * 12  # over a hundred: a batch of several statements
        store.append("order-1", events)
        assert [e.message.sku for e in store.read_stream("order-1")] == skus * 12  # type: ignore[attr-defined]
        assert [e.message for e in store.read_all()] == events

    def test_a_value_json_cannot_hold_is_refused_naming_the_field(self, store: EventStore) -> None:
        with pytest.raises(EventNotStorable) as info:
            store.append("meter-1", [ReadingTaken(sensor="s1", value=1.0, note={"probe": object()})])
        assert (info.value.type_name, info.value.field) == ("ReadingTaken", "note")
        assert "'meter-1'" in str(info.value) and "JSON" in str(info.value)
        assert store.last_position() == 0

    @pytest.mark.parametrize(("forged", "type_name", "field", "said"), [
        ({"type": "CartOpened"}, "CartOpened", "owner", "would not read back as the registered class"),
        ({"schema_version": 2}, "CartItemAdded", "schema_version", "says schema v2 but the registered class"),
    ])
    def test_an_envelope_that_misdescribes_its_message_is_refused(
        self, store: EventStore, forged: dict[str, Any], type_name: str, field: str, said: str
    ) -> None:
        env: Envelope[Message] = envelope(item())
        with pytest.raises(EventNotStorable) as info:
            store.append("order-1", [Envelope(metadata=env.metadata.model_copy(update=forged), message=env.message)])
        assert (info.value.stream_id, info.value.type_name, info.value.field) == ("order-1", type_name, field)
        assert said in str(info.value) and "How to fix" in str(info.value)
        assert store.last_position() == 0

    # --- snapshots -------------------------------------------------------------------------------------

    def test_snapshots_are_kept_and_replaced_by_newer_ones(self, store: EventStore) -> None:
        first = Snapshot(stream_id="order-1", version=5, type="Order", state={"status": "draft", "items": {"a": 1}})
        store.save_snapshot(first)
        assert store.load_snapshot("order-1") == first
        newer = Snapshot(stream_id="order-1", version=9, type="Order", state={"status": "paid", "items": {}})
        store.save_snapshot(newer)
        assert store.load_snapshot("order-1") == newer
        store.save_snapshot(first)  # an older snapshot never replaces a newer one
        assert store.load_snapshot("order-1") == newer
        assert store.load_snapshot("order-2") is None

    def test_a_loaded_snapshot_is_the_callers_own(self, store: EventStore) -> None:
        # the repository takes the state as it is, without copying it: changing it must not reach the store
        store.save_snapshot(Snapshot(stream_id="order-1", version=5, type="Order",
                                     state={"status": "draft", "items": {"a": {"quantity": 1}}}))
        loaded = store.load_snapshot("order-1")
        assert loaded is not None
        loaded.state["items"]["a"]["quantity"] = 99
        loaded.state.pop("status")
        assert store.load_snapshot("order-1").state == {"status": "draft", "items": {"a": {"quantity": 1}}}  # type: ignore[union-attr]

    def test_a_snapshot_state_is_kept_as_json(self, store: EventStore) -> None:
        # every store keeps the state as JSON text, so the in-memory store refuses what SQL would not store
        store.save_snapshot(Snapshot(stream_id="order-1", version=2, type="Order", state={"lines": (1, 2)}))
        assert store.load_snapshot("order-1").state == {"lines": [1, 2]}  # type: ignore[union-attr]
        says = r"order-1.*Order v3.*not JSON.*set[\s\S]*How to fix: make snapshot_state"
        with pytest.raises(SnapshotNotStorable, match=says):
            store.save_snapshot(Snapshot(stream_id="order-1", version=3, type="Order", state={"skus": {"a", "b"}}))
        assert store.load_snapshot("order-1").version == 2  # type: ignore[union-attr]


Damage = Callable[[str, int, str], None]
ColumnDamage = Callable[[str, int, str, str], None]


class SQLEventStoreContract(EventStoreContract):
    """For backends that store JSON text: also provide a ``damage(stream_id, version, column, text)`` fixture that
    overwrites one column of one stored row behind the store's back."""

    @pytest.fixture
    def corrupt(self, damage: ColumnDamage) -> Damage:
        return lambda stream_id, version, data: damage(stream_id, version, "data", data)

    @pytest.fixture
    def unknown_type(self, damage: ColumnDamage) -> Damage:
        return lambda stream_id, version, type_name: damage(stream_id, version, "type", type_name)

    def test_corrupt_json_names_stream_and_version(self, store: EventStore, corrupt: Damage) -> None:
        store.append("order-1", [opened(), item("1")])
        corrupt("order-1", 2, "{not json")
        assert store.read_stream("order-1", limit=1)[0].metadata.stream_version == 1
        with pytest.raises(StoredEventCorrupt) as info:
            store.read_stream("order-1")
        assert (info.value.stream_id, info.value.version) == ("order-1", 2)
        assert "'order-1' version 2" in str(info.value)
        corrupt("order-1", 2, '{"cart_id": "1", "sku": "mug"}')
        with pytest.raises(StoredEventCorrupt, match="quantity"):
            store.read_all()

    def test_unknown_type_names_the_type_and_the_registry(self, store: EventStore, unknown_type: Damage) -> None:
        store.append("order-1", [CartCheckedOut(cart_id="1", total_cents=0)])
        unknown_type("order-1", 1, "OrderTeleported")
        with pytest.raises(UnknownMessageType, match="OrderTeleported") as info:
            store.read_stream("order-1")
        assert "CartOpened" in str(info.value) and "register" in str(info.value)

    def test_a_damaged_data_column_cannot_move_its_event(self, store: EventStore, damage: ColumnDamage) -> None:
        """Each column is decoded on its own: text in ``data`` can never override the row's stream or place."""
        store.append("order-1", [opened(), item("1")])
        position = store.read_stream("order-1")[1].metadata.position
        ids = uuid.uuid4()
        smuggled = ('{"cart_id":"1","sku":"mug","quantity":1,"unit_price_cents":100},"metadata":{'
                    f'"message_id":"{ids}","type":"CartItemAdded","schema_version":1,'
                    f'"occurred_at":"2026-01-01T00:00:00Z","correlation_id":"{ids}","causation_id":null,'
                    '"stream_id":"order-evil","stream_version":7,"position":99}')
        damage("order-1", 2, "data", smuggled)
        for read in every_read(store, "order-1"):
            with pytest.raises(StoredEventCorrupt) as info:
                read()
            assert (info.value.stream_id, info.value.version, info.value.position) == ("order-1", 2, position)
            assert f"'order-1' version 2 (global position {position})" in str(info.value)

    @pytest.mark.parametrize(("metadata", "named"), [
        ("{not json", "metadata"),
        ('["a list"]', "metadata"),
        ('{"message_id":"not-a-uuid","schema_version":1,"occurred_at":"2026-01-01T00:00:00Z",'
         '"correlation_id":"00000000-0000-0000-0000-000000000001"}', "message_id"),
        ('{"message_id":"00000000-0000-0000-0000-000000000001","schema_version":1,"occurred_at":"yesterday",'
         '"correlation_id":"00000000-0000-0000-0000-000000000001"}', "occurred_at"),
        ('{"message_id":"00000000-0000-0000-0000-000000000001","schema_version":1,"occurred_at":"2026-01-01T00:00:00Z",'
         '"correlation_id":"00000000-0000-0000-0000-000000000001","smuggled":true}', "smuggled"),
        ('{"message_id":"00000000-0000-0000-0000-000000000001","occurred_at":"2026-01-01T00:00:00Z",'
         '"correlation_id":null}', "correlation_id"),
    ])
    def test_damaged_metadata_is_refused_by_every_read(
        self, store: EventStore, damage: ColumnDamage, metadata: str, named: str
    ) -> None:
        store.append("order-1", [opened(), item("1")])
        position = store.read_stream("order-1")[1].metadata.position
        damage("order-1", 2, "metadata", metadata)
        for read in every_read(store, "order-1"):
            with pytest.raises(StoredEventCorrupt, match=named) as info:
                read()
            assert (info.value.stream_id, info.value.version, info.value.position) == ("order-1", 2, position)

    def test_metadata_may_name_its_row_but_the_columns_win(self, store: EventStore, damage: ColumnDamage) -> None:
        """Rows written by older code may repeat stream, version and position in the metadata text: they are
        ignored, because the row's own columns say where an event sits."""
        store.append("order-1", [opened()])
        stored = store.read_stream("order-1")[0]
        ids, at = stored.message_id, stored.metadata.occurred_at.isoformat()
        damage("order-1", 1, "metadata",
               f'{{"message_id":"{ids}","schema_version":1,"occurred_at":"{at}","correlation_id":"{ids}",'
               '"type":"OrderPaid","stream_id":"order-evil","stream_version":7,"position":99}')
        assert store.read_stream("order-1") == [stored]


def contend(url: str, streams: list[str], attempts: int, worker: int, barrier: Any, results: Any) -> None:
    """One process of the multiprocess concurrency test: read a stream's version, append with it, count outcomes.

    Every attempt must end in success or ``ConcurrencyError``; anything else is reported as an error. Puts
    ``{"worker", "acked": [(stream, [ids])], "conflicts", "errors"}`` on ``results``.
    """
    from course_lib.eventstore import open_store

    store = open_store(url)
    acked: list[tuple[str, list[str]]] = []
    conflicts, errors = 0, []
    try:
        barrier.wait(timeout=60)
        for attempt in range(attempts):
            stream_id = streams[(attempt + worker) % len(streams)]
            batch: list[Envelope[Message] | Message] = [
                envelope(item(stream_id, f"w{worker}-a{attempt}-{n}")) for n in range(1 + attempt % 3)
            ]
            try:
                version = store.stream_version(stream_id)
                store.append(stream_id, batch, version)
                acked.append((stream_id, [str(e.message_id) for e in batch if isinstance(e, Envelope)]))
            except ConcurrencyError:
                conflicts += 1
            except Exception as exc:  # reported, and the test fails on it
                errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        store.close()
        results.put({"worker": worker, "acked": acked, "conflicts": conflicts, "errors": errors})
