"""Several OS processes append to the same streams with expected versions; nothing is lost or duplicated."""

from __future__ import annotations

import multiprocessing
import queue
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from course_lib.eventstore import open_store
from course_lib.eventstore.testing import contend

PROCESSES = 4
ATTEMPTS = 40
STREAMS = ["order-a", "order-b"]


def run_contention(url: str) -> list[dict[str, Any]]:
    ctx = multiprocessing.get_context("spawn")  # fresh interpreters: nothing shared but the database
    barrier, results = ctx.Barrier(PROCESSES), ctx.Queue()
    workers = [ctx.Process(target=contend, args=(url, STREAMS, ATTEMPTS, n, barrier, results))
               for n in range(PROCESSES)]
    for worker in workers:
        worker.start()
    reports = []
    try:
        for _ in workers:
            reports.append(results.get(timeout=120))
    except queue.Empty:
        pytest.fail(f"only {len(reports)} of {PROCESSES} processes reported within 120 s")
    finally:
        for worker in workers:
            worker.join(timeout=30)
    assert all(worker.exitcode == 0 for worker in workers)
    return reports


def check_store(url: str, reports: list[dict[str, Any]], *, gap_free_positions: bool) -> None:
    assert [e for r in reports for e in r["errors"]] == []
    successes = sum(len(r["acked"]) for r in reports)
    conflicts = sum(r["conflicts"] for r in reports)
    assert successes + conflicts == PROCESSES * ATTEMPTS  # every rejected append raised ConcurrencyError
    assert conflicts > 0, "the processes never collided: the test proved nothing (raise ATTEMPTS)"
    store = open_store(url)
    try:
        total = 0
        for stream_id in STREAMS:
            events = store.read_stream(stream_id)
            assert [e.metadata.stream_version for e in events] == list(range(1, len(events) + 1))
            stored_ids = [str(e.message_id) for e in events]
            acked_ids = [i for r in reports for s, ids in r["acked"] if s == stream_id for i in ids]
            assert len(set(stored_ids)) == len(stored_ids)  # no duplicate
            assert sorted(stored_ids) == sorted(acked_ids)  # nothing acknowledged is missing, nothing else stored
            total += len(events)
        positions = [e.metadata.position for e in store.read_all(limit=10_000)]
        assert len(positions) == total and positions == sorted(positions)
        if gap_free_positions:
            assert positions == list(range(1, total + 1))
    finally:
        store.close()


def test_sqlite_processes_racing_on_one_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'race.db'}"
    open_store(url).close()  # create the schema once, before the race
    check_store(url, run_contention(url), gap_free_positions=True)


def test_postgres_processes_racing_on_one_schema(postgres_url: str, unique_name: Callable[[str], str]) -> None:
    url = f"{postgres_url}?schema={unique_name('race')}"
    store = open_store(url)
    try:
        check_store(url, run_contention(url), gap_free_positions=False)
    finally:
        store.drop_schema()
        store.close()
