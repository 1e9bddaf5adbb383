"""The append benchmarks end each run with a checkpoint, and refuse a run whose WAL pages were not all copied."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import pytest

from benchmarks.cases.eventstore import STEADY_WARMUP_BATCHES, _SteadyFile, checkpoint


def _wal_database(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA wal_autocheckpoint=0")  # only the benchmark's own checkpoint copies pages
    conn.execute("CREATE TABLE t (x TEXT)")
    return conn


def test_the_checkpoint_copies_every_page_the_run_wrote(tmp_path: Path) -> None:
    path = tmp_path / "e.db"
    with contextlib.closing(_wal_database(path)) as conn:
        conn.executemany("INSERT INTO t VALUES (?)", [("x" * 500,)] * 100)
        before = path.stat().st_size  # the rows are only in the WAL so far
        checkpoint(conn.execute, "test")
        assert before < 50_000 < path.stat().st_size  # now the database file holds the 100 rows of 500 bytes


def test_a_checkpoint_that_leaves_pages_behind_stops_the_run(tmp_path: Path) -> None:
    path = tmp_path / "e.db"
    with contextlib.closing(_wal_database(path)) as writer, contextlib.closing(sqlite3.connect(path)) as reader:
        writer.execute("INSERT INTO t VALUES ('before')")
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM t").fetchone()  # holds a snapshot: later pages cannot be copied
        writer.execute("INSERT INTO t VALUES ('after')")
        with pytest.raises(RuntimeError, match="test: the checkpoint copied"):
            checkpoint(writer.execute, "test")


@pytest.mark.parametrize("label", ["course_lib", "eventsourcing", "raw sqlite3"])
def test_a_steady_run_appends_after_the_warm_up_and_times_only_its_own_batches(label: str) -> None:
    steady = _SteadyFile(label)  # filled with the warm-up batches, which no run counts
    try:
        assert steady.version == STEADY_WARMUP_BATCHES * 100
        first, second = steady.run(2), steady.run(3)
        assert (first.items, second.items) == (200, 300)
        assert steady.version == (STEADY_WARMUP_BATCHES + 5) * 100  # each run continued the same stream
    finally:
        steady.close()
