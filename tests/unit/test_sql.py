"""The SQL helper: one SQLite connect (WAL, and on macOS a FULL sync that really waits for the drive), one
placeholder style, transactions that commit their block or nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from course_lib import sql
from course_lib.eventstore import SQLiteEventStore


def _flags(path: Path) -> tuple[str, int, int]:
    conn = sql.connect_sqlite(path)
    try:
        return (conn.execute("PRAGMA journal_mode").fetchone()[0], conn.execute("PRAGMA fullfsync").fetchone()[0],
                conn.execute("PRAGMA checkpoint_fullfsync").fetchone()[0])
    finally:
        conn.close()


def test_on_macos_commits_use_fullfsync_so_synchronous_full_reaches_the_drive(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sql.sys, "platform", "darwin")
    assert _flags(tmp_path / "mac.db") == ("wal", 1, 1)
    store = SQLiteEventStore(tmp_path / "events.db")  # the event store opens its file the same way
    try:
        assert store.synchronous == "FULL"
        assert store._conn.execute("PRAGMA fullfsync").fetchone()[0] == 1
    finally:
        store.close()


def test_elsewhere_fsync_already_waits_for_the_drive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sql.sys, "platform", "linux")
    assert _flags(tmp_path / "linux.db") == ("wal", 0, 0)


def test_statements_are_written_once_with_question_marks() -> None:
    statement = "INSERT INTO t (a, b) VALUES (?, ?)"
    assert sql.adapt(statement, "sqlite") == statement
    assert sql.adapt(statement, "postgres") == "INSERT INTO t (a, b) VALUES (%s, %s)"


def test_a_transaction_commits_its_block_or_nothing(tmp_path: Path) -> None:
    db = sql.Database.sqlite(tmp_path / "t.db")
    try:
        db.execute("CREATE TABLE t (k TEXT PRIMARY KEY)")
        with db.transaction(sql.Tx) as tx:
            tx.execute("INSERT INTO t VALUES (?)", ("kept",))
        with pytest.raises(RuntimeError), db.transaction(sql.Tx) as tx:
            tx.execute("INSERT INTO t VALUES (?)", ("rolled back",))
            raise RuntimeError("the block failed")
        assert db.execute("SELECT k FROM t") == [("kept",)]
        assert not db.connection.in_transaction
    finally:
        db.close()


def test_a_taken_unique_key_is_recognised(tmp_path: Path) -> None:
    db = sql.Database.sqlite(tmp_path / "u.db")
    try:
        db.execute("CREATE TABLE t (k TEXT PRIMARY KEY)")
        db.execute("INSERT INTO t VALUES (?)", ("a",))
        with pytest.raises(Exception) as caught:
            db.execute("INSERT INTO t VALUES (?)", ("a",))
        assert sql.is_unique_violation(caught.value)
        assert not sql.is_unique_violation(ValueError("UNIQUE"))
    finally:
        db.close()


@pytest.mark.parametrize("bad", ["t; DROP TABLE x", "a b", ""])
def test_only_plain_identifiers_reach_sql_text(bad: str) -> None:
    with pytest.raises(ValueError, match="plain identifier"):
        sql.check_identifier(bad)
