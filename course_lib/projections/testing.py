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
