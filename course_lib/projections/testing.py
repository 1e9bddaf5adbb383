"""Reusable checks for projections, run by the tests against every read-model store (SQLite, PostgreSQL).

``crash_everywhere`` injects a crash at every crash point of every event, restarts a fresh projector, and
compares the read model with one built from scratch: they must be identical every time.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from course_lib.errors import CourseError
from course_lib.eventstore.base import EventStore
from course_lib.projections.gaps import WaitForGap
from course_lib.projections.projector import CRASH_POINTS, Projection, Projector, dump
from course_lib.projections.readmodels import ReadModelStore


class InjectedCrash(Exception):
    """Raised by a fault hook to stand for the process dying at that point."""


@dataclass
class CrashReport:
    """How many crashes were injected, per point, and any run whose result differed from the reference."""

    crashes: dict[str, int] = field(default_factory=dict)
    mismatches: list[str] = field(default_factory=list)


def reset(read_models: ReadModelStore, projection: Projection) -> None:
    """Empty a projection and its checkpoint, as if it had never run."""
    with read_models.transaction() as tx:
        projection.setup(tx)
        projection.reset(tx)
        tx.set_checkpoint(projection.name, 0)


def crash_everywhere(
    store: EventStore,
    read_models: ReadModelStore,
    make_projection: Callable[[], Projection],
    *,
    page_size: int = 10,
    batch_size: int = 7,
) -> CrashReport:
    """Crash at every point of every event, restart, and compare with a from-scratch build."""
    reference_projection = make_projection()
    reset(read_models, reference_projection)
    sizes: dict[str, Any] = {"page_size": page_size, "batch_size": batch_size, "gap_policy": WaitForGap()}
    Projector(store, read_models, reference_projection, **sizes).catch_up()
    reference = dump(read_models, reference_projection)
    head = store.last_position()
    report = CrashReport()
    for point in CRASH_POINTS:
        for target in range(1, head + 1):
            fired: list[Any] = []

            def fault(at: str, position: int, point: str = point, target: int = target,
                      fired: list[Any] = fired) -> None:
                if at == point and position == target and not fired:
                    fired.append(position)
                    raise InjectedCrash(f"{point} @ {position}")

            projection = make_projection()
            reset(read_models, projection)
            crashing = Projector(store, read_models, projection, fault=fault, **sizes)
            with contextlib.suppress(InjectedCrash):
                crashing.catch_up()
            if not fired:
                continue  # this point never sees this position (e.g. after_read only sees a page's first event)
            report.crashes[point] = report.crashes.get(point, 0) + 1
            restarted = Projector(store, read_models, make_projection(), **sizes)
            restarted.catch_up()
            got = dump(read_models, projection)
            if got != reference or restarted.position != head:
                report.mismatches.append(f"crash {point} @ {target}: read model differs after restart")
    return report


def run_in_threads(work: Callable[[int], None], count: int, *, timeout: float = 60.0) -> None:
    """Run ``work(0)`` … ``work(count - 1)`` in parallel threads (concurrent writers); re-raise the first error.

    Bounded: ``CourseError`` if a thread is still running after ``timeout`` seconds.
    """
    errors: list[BaseException] = []

    def guarded(index: int) -> None:
        try:
            work(index)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(i,), name=f"writer-{i}", daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    running = sum(thread.is_alive() for thread in threads)
    if running:
        raise CourseError(f"{running} of {count} threads still running after {timeout}s")
    if errors:
        raise errors[0]


class ReadModelStoreContract:
    """A read-model store: a change and its checkpoint commit together or not at all, on every backend.

    A test module subclasses it and provides a ``read_models`` fixture: a fresh, empty store.
    """

    TABLE = "contract_rows"

    def _create(self, read_models: ReadModelStore) -> None:
        with read_models.transaction() as tx:
            tx.execute(f"CREATE TABLE IF NOT EXISTS {self.TABLE} (k TEXT PRIMARY KEY, n BIGINT NOT NULL)")

    def test_a_projection_that_never_ran_is_at_zero(self, read_models: ReadModelStore) -> None:
        assert read_models.checkpoint("never") == 0
        with read_models.transaction() as tx:
            assert tx.checkpoint("never") == 0

    def test_a_change_and_its_checkpoint_commit_together(self, read_models: ReadModelStore) -> None:
        self._create(read_models)
        with read_models.transaction() as tx:
            tx.executemany(f"INSERT INTO {self.TABLE} (k, n) VALUES (?, ?)", [("a", 1), ("b", 2)])
            tx.set_checkpoint("p", 2)
            assert tx.checkpoint("p") == 2  # visible inside the transaction
        assert read_models.query(f"SELECT k, n FROM {self.TABLE} ORDER BY k") == [("a", 1), ("b", 2)]
        assert read_models.checkpoint("p") == 2

    def test_a_failed_batch_leaves_neither_the_change_nor_the_checkpoint(self, read_models: ReadModelStore) -> None:
        self._create(read_models)
        with read_models.transaction() as tx:
            tx.set_checkpoint("p", 1)
        with pytest.raises(InjectedCrash), read_models.transaction() as tx:
            tx.execute(f"INSERT INTO {self.TABLE} (k, n) VALUES (?, ?)", ("lost", 1))
            tx.set_checkpoint("p", 5)
            raise InjectedCrash("the batch fails before it commits")
        assert read_models.query(f"SELECT count(*) FROM {self.TABLE}") == [(0,)]
        assert read_models.checkpoint("p") == 1

    def test_ensure_checkpoint_creates_at_zero_and_keeps_an_existing_one(self, read_models: ReadModelStore) -> None:
        with read_models.transaction() as tx:
            tx.ensure_checkpoint("p")
            assert tx.checkpoint("p", lock=True) == 0
            tx.set_checkpoint("p", 7)
            tx.ensure_checkpoint("p")
        assert read_models.checkpoint("p") == 7

    def test_queries_take_question_mark_parameters(self, read_models: ReadModelStore) -> None:
        self._create(read_models)
        with read_models.transaction() as tx:
            tx.execute(f"INSERT INTO {self.TABLE} (k, n) VALUES (?, ?)", ("x", 3))
            assert tx.execute(f"SELECT n FROM {self.TABLE} WHERE k = ?", ("x",)).fetchone() == (3,)
        assert read_models.query(f"SELECT k FROM {self.TABLE} WHERE n > ?", (2,)) == [("x",)]
        assert read_models.dialect in ("sqlite", "postgres")
