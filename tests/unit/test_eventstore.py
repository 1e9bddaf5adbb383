"""The backend-independent suite on the in-memory and SQLite stores, plus SQLite-specific guarantees."""

from __future__ import annotations

import contextlib
import copy
import json
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from course_lib.eventstore.base import CannotOpenStore
from course_lib.eventstore.memory import InMemoryEventStore
from course_lib.eventstore.sqlite import PAGE_SIZE, SQLiteEventStore, _statement_sizes
from course_lib.eventstore.testing import EventStoreContract, SQLEventStoreContract, item


class TestInMemoryEventStore(EventStoreContract):
    @pytest.fixture
    def store(self) -> Iterator[InMemoryEventStore]:
        store = InMemoryEventStore()
        yield store
        store.close()


class TestSQLiteEventStore(SQLEventStoreContract):
    @pytest.fixture
    def path(self, tmp_path: Path) -> Path:
        return tmp_path / "events.db"

    @pytest.fixture
    def store(self, path: Path) -> Iterator[SQLiteEventStore]:
        store = SQLiteEventStore(path, synchronous="NORMAL")
        yield store
        store.close()

    @pytest.fixture
    def damage(self, path: Path) -> Callable[[str, int, str, str], None]:
        def overwrite(stream_id: str, version: int, column: str, text: str) -> None:
            assert column in {"type", "metadata", "data"}
            with contextlib.closing(sqlite3.connect(path)) as conn, conn:
                conn.execute(f"UPDATE events SET {column} = ? WHERE stream_id = ? AND version = ?",
                             (text, stream_id, version))
        return overwrite


def test_sqlite_uses_wal_and_the_requested_synchronous_level(tmp_path: Path) -> None:
    with SQLiteEventStore(tmp_path / "e.db") as store:
        assert store.journal_mode == "WAL"
        assert store.connection.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    with SQLiteEventStore(tmp_path / "e.db", synchronous="NORMAL") as store:
        assert store.connection.execute("PRAGMA synchronous").fetchone()[0] == 1
    with pytest.raises(ValueError, match="synchronous"):
        SQLiteEventStore(tmp_path / "e.db", synchronous="fast")  # type: ignore[arg-type]


def test_a_new_sqlite_store_uses_small_pages_and_an_old_file_keeps_its_own(tmp_path: Path) -> None:
    with SQLiteEventStore(tmp_path / "new.db") as store:
        store.append("order-1", [item()])
        assert store.connection.execute("PRAGMA page_size").fetchone()[0] == PAGE_SIZE == 2048
    old = sqlite3.connect(tmp_path / "old.db")  # a file made before (SQLite's default page size)
    old.execute("PRAGMA journal_mode=WAL")
    old.close()
    with SQLiteEventStore(tmp_path / "old.db") as store:
        store.append("order-1", [item()])
        assert store.connection.execute("PRAGMA page_size").fetchone()[0] == 4096
        assert store.stream_version("order-1") == 1


def test_sqlite_events_survive_reopening_and_two_objects_share_one_file(tmp_path: Path) -> None:
    path = tmp_path / "e.db"
    with SQLiteEventStore(path) as writer:
        writer.append("order-1", [item()])
    with SQLiteEventStore(path) as one, SQLiteEventStore(path) as two:
        assert two.stream_version("order-1") == 1
        one.append("order-1", [item()], 1)
        assert two.stream_version("order-1") == 2 and two.last_position() == 2
        assert two.stream_ids() == ["order-1"]


def test_sqlite_in_transaction_writes_atomically_with_the_events(tmp_path: Path) -> None:
    with SQLiteEventStore(tmp_path / "e.db") as store:
        store.connection.execute("CREATE TABLE outbox (position INTEGER, type TEXT)")

        def to_outbox(conn: sqlite3.Connection, envelopes: list) -> None:
            conn.executemany("INSERT INTO outbox VALUES (?, ?)",
                             [(e.metadata.position, e.type) for e in envelopes])

        store.append("order-1", [item(), item()], in_transaction=to_outbox)
        assert store.connection.execute("SELECT * FROM outbox").fetchall() == [(1, "CartItemAdded"),
                                                                               (2, "CartItemAdded")]

        def half_then_fail(conn: sqlite3.Connection, envelopes: list) -> None:
            to_outbox(conn, envelopes)
            raise RuntimeError("relay table full")

        with pytest.raises(RuntimeError):
            store.append("order-1", [item()], in_transaction=half_then_fail)
        assert store.connection.execute("SELECT count(*) FROM outbox").fetchone()[0] == 2
        assert store.last_position() == 2


def test_open_store_picks_the_backend_from_the_url(tmp_path: Path) -> None:
    from course_lib.eventstore import open_store

    assert isinstance(open_store("memory://"), InMemoryEventStore)
    store = open_store(f"sqlite:///{tmp_path}/sub/e.db", synchronous="NORMAL")
    assert isinstance(store, SQLiteEventStore) and store.path == f"{tmp_path}/sub/e.db"
    assert (tmp_path / "sub" / "e.db").exists()
    store.close()
    for bad in ("redis://x", "sqlite://relative.db", "sqlite:///"):
        with pytest.raises(ValueError, match="URL"):
            open_store(bad)


def test_open_store_on_a_directory_names_the_path_and_the_fix(tmp_path: Path) -> None:
    from course_lib.eventstore import open_store

    with pytest.raises(CannotOpenStore) as info:
        open_store(f"sqlite:///{tmp_path}")
    text = str(info.value)
    assert str(tmp_path) in text and "is a directory" in text and f"sqlite:///{tmp_path}/events.db" in text
    assert info.value.location == str(tmp_path)


def test_open_store_under_a_file_names_the_path_and_the_fix(tmp_path: Path) -> None:
    from course_lib.eventstore import open_store

    (tmp_path / "notes.txt").write_text("not a folder")
    with pytest.raises(CannotOpenStore) as info:
        open_store(f"sqlite:///{tmp_path}/notes.txt/events.db")
    assert f"{tmp_path}/notes.txt/events.db" in str(info.value) and "How to fix" in str(info.value)


def test_envelopes_read_back_behave_exactly_like_validated_ones(tmp_path: Path) -> None:
    """Reads put envelopes together from parts validated column by column; nothing about them may differ."""
    with SQLiteEventStore(tmp_path / "e.db", synchronous="NORMAL") as store:
        store.append("order-1", [item()])
        read = store.read_stream("order-1")[0]
    validated = type(read).model_validate(read.model_dump())
    assert read == validated and hash(read) == hash(validated) and repr(read) == repr(validated)
    assert read.model_fields_set == validated.model_fields_set
    assert read.metadata.model_fields_set == validated.metadata.model_fields_set
    assert copy.deepcopy(read) == read and copy.copy(read.metadata) == read.metadata
    with pytest.raises(ValidationError, match="frozen"):
        read.metadata.position = 5  # type: ignore[misc]
    moved = read.with_metadata(position=9)
    assert (moved.metadata.position, read.metadata.position) == (9, 1)


def test_envelopes_read_back_share_no_state_that_a_copy_can_change(tmp_path: Path) -> None:
    """Read envelopes share one set of field names; copying one with changes must leave the others' sets alone."""
    with SQLiteEventStore(tmp_path / "e.db", synchronous="NORMAL") as store:
        store.append("order-1", [item(), item(sku="tea")])
        first, second = store.read_stream("order-1")
    before = set(second.metadata.model_fields_set), set(second.model_fields_set)
    first.metadata.model_copy(update={"position": 7}).model_fields_set.add("anything")
    first.model_copy(update={"message": second.message}).model_fields_set.add("anything")
    copy.deepcopy(first).metadata.model_fields_set.add("anything")
    assert (set(second.metadata.model_fields_set), set(second.model_fields_set)) == before
    assert "anything" not in first.metadata.model_fields_set | first.model_fields_set


def test_metadata_is_stored_without_what_the_reader_can_tell(tmp_path: Path) -> None:
    """Defaults and a correlation id equal to the message id are left out of the metadata text, and come back."""
    from course_lib.messages import envelope

    with SQLiteEventStore(tmp_path / "e.db", synchronous="NORMAL") as store:
        first: Any = envelope(item())
        caused: Any = first.caused(item(sku="tea"))
        store.append("order-1", [first, caused])
        rows = store.connection.execute("SELECT metadata FROM events ORDER BY position").fetchall()
        texts = [json.loads(text) for (text,) in rows]
        assert sorted(texts[0]) == ["message_id", "occurred_at"]
        assert sorted(texts[1]) == ["causation_id", "correlation_id", "message_id", "occurred_at"]
        read = store.read_stream("order-1")
    assert read == [first.with_metadata(stream_id="order-1", stream_version=1, position=1),
                    caused.with_metadata(stream_id="order-1", stream_version=2, position=2)]
    assert read[0].metadata.correlation_id == read[0].message_id and read[0].metadata.schema_version == 1


def test_an_append_of_any_size_goes_in_through_a_few_statement_texts() -> None:
    # the texts must all fit the connection's statement cache, or every append would compile its statement anew;
    # the small batches an aggregate saves go in as one statement each
    plans = {n: _statement_sizes(n) for n in range(1001)}
    assert all(sum(sizes) == n for n, sizes in plans.items())
    assert {size for sizes in plans.values() for size in sizes} == {100, 64, 32, *range(1, 17)}
    assert all(plans[n] == [n] for n in range(1, 17))
    assert plans[0] == [] and plans[100] == [100] and plans[99] == [64, 32, 3] and plans[250] == [100, 100, 32, 16, 2]
