"""The one SQLite connect helper: WAL, and on macOS a FULL sync that really waits for the drive."""

from __future__ import annotations

from pathlib import Path

import pytest

from course_lib import sqlitedb
from course_lib.eventstore import SQLiteEventStore


def _flags(path: Path) -> tuple[str, int, int]:
    conn = sqlitedb.connect(path)
    try:
        return (conn.execute("PRAGMA journal_mode").fetchone()[0], conn.execute("PRAGMA fullfsync").fetchone()[0],
                conn.execute("PRAGMA checkpoint_fullfsync").fetchone()[0])
    finally:
        conn.close()


def test_on_macos_commits_use_fullfsync_so_synchronous_full_reaches_the_drive(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlitedb.sys, "platform", "darwin")
    assert _flags(tmp_path / "mac.db") == ("wal", 1, 1)
    store = SQLiteEventStore(tmp_path / "events.db")  # the event store opens its file the same way
    try:
        assert store.synchronous == "FULL"
        assert store._conn.execute("PRAGMA fullfsync").fetchone()[0] == 1
    finally:
        store.close()


def test_elsewhere_fsync_already_waits_for_the_drive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlitedb.sys, "platform", "linux")
    assert _flags(tmp_path / "linux.db") == ("wal", 0, 0)
