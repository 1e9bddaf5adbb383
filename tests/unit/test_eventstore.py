"""The backend-independent suite on the in-memory and SQLite stores, plus SQLite-specific guarantees."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from course_lib.eventstore.memory import InMemoryEventStore
from course_lib.eventstore.sqlite import SQLiteEventStore
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
    def corrupt(self, path: Path) -> Callable[[str, int, str], None]:
        def damage(stream_id: str, version: int, data: str) -> None:
            with sqlite3.connect(path) as conn:
                conn.execute("UPDATE events SET data = ? WHERE stream_id = ? AND version = ?",
                             (data, stream_id, version))
        return damage

    @pytest.fixture
    def unknown_type(self, path: Path) -> Callable[[str, int, str], None]:
        def rename(stream_id: str, version: int, type_name: str) -> None:
            with sqlite3.connect(path) as conn:
                conn.execute("UPDATE events SET type = ? WHERE stream_id = ? AND version = ?",
                             (type_name, stream_id, version))
        return rename


def test_sqlite_uses_wal_and_the_requested_synchronous_level(tmp_path: Path) -> None:
    with SQLiteEventStore(tmp_path / "e.db") as store:
        assert store.journal_mode == "WAL"
        assert store.connection.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    with SQLiteEventStore(tmp_path / "e.db", synchronous="NORMAL") as store:
        assert store.connection.execute("PRAGMA synchronous").fetchone()[0] == 1
    with pytest.raises(ValueError, match="synchronous"):
        SQLiteEventStore(tmp_path / "e.db", synchronous="fast")  # type: ignore[arg-type]


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
        assert store.connection.execute("SELECT * FROM outbox").fetchall() == [(1, "OrderItemAdded"),
                                                                               (2, "OrderItemAdded")]

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
