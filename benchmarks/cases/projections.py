"""Rebuilding a read model from the SQLite event store: batched projector vs. a checkpoint after every event.

Both cases use the same event store file, the same read model (``OrderSummaries`` in a SQLite read-model store
with the same settings) and the same ``Projector`` code; the only difference is how many events share one
transaction and one checkpoint write: ``batch_size=1000`` versus ``batch_size=1`` (the naive projector).
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import time
from pathlib import Path

from benchmarks.runner import Case, Group, Measurement
from course_lib.clock import FixedStepClock, SequentialIds
from course_lib.eventstore.sqlite import SQLiteEventStore
from course_lib.projections import Projector, SQLiteReadModels
from course_lib.shop.events import OrderCreated, OrderItemAdded, OrderSubmitted
from course_lib.shop.projections import OrderSummaries

_DIR = Path(tempfile.mkdtemp(prefix="bench-projections-"))
atexit.register(shutil.rmtree, _DIR, ignore_errors=True)  # the event logs are reused across runs, then removed
_EVENTS_PER_ORDER = 5  # created, three items, submitted


def _store(n_events: int) -> SQLiteEventStore:
    """A store holding ``n_events`` shop events, built once per size and reused by every run."""
    path = _DIR / f"events-{n_events}.db"
    existed = path.exists()
    store = SQLiteEventStore(path, synchronous="OFF", clock=FixedStepClock(), ids=SequentialIds())
    if not existed:
        for o in range(n_events // _EVENTS_PER_ORDER):
            oid = f"o{o}"
            store.append(f"order-{oid}", [
                OrderCreated(order_id=oid, customer_id=f"c{o % 97}"),
                *(OrderItemAdded(order_id=oid, sku=f"sku{k}", quantity=k + 1, unit_price_cents=250) for k in range(3)),
                OrderSubmitted(order_id=oid, total_cents=1500),
            ])
    return store


def _rebuild(batch_size: int, n_events: int, synchronous: str) -> Measurement:
    store = _store(n_events)
    with tempfile.TemporaryDirectory(dir=_DIR) as tmp:
        read_models = SQLiteReadModels(Path(tmp) / "read.db", synchronous=synchronous)
        projector = Projector(store, read_models, OrderSummaries(), page_size=2000, batch_size=batch_size)
        start = time.perf_counter()
        applied = projector.rebuild(progress=False)
        seconds = time.perf_counter() - start
        read_models.close()
    store.close()
    if applied != n_events:
        raise AssertionError(f"rebuild applied {applied} events, expected {n_events}")
    return Measurement(applied, seconds)


def _cases(synchronous: str) -> list[Case]:
    def batched(quick: bool) -> Measurement:
        return _rebuild(1000, 3_000 if quick else 100_000, synchronous)

    def naive(quick: bool) -> Measurement:
        # one commit per event is slow: a smaller log keeps the run bounded (throughput is per event either way)
        return _rebuild(1, (300 if quick else 10_000) if synchronous == "FULL" else (1_000 if quick else 20_000),
                        synchronous)

    return [Case("course_lib", batched), Case("checkpoint per event", naive)]


_NOTES = ("Rebuild of OrderSummaries from the SQLite event store (100,000 events; quick: 3,000). Same store, read "
          "model and code; 1000 events per transaction vs. one. Issue target: >= 100,000 events/s batched and "
          ">= 20x the naive projector. ")

GROUPS = [
    Group(
        name="projections.rebuild",
        unit="events",
        cases=_cases("FULL"),
        baseline="checkpoint per event",
        target=20.0,
        notes=_NOTES + "Read-model store with synchronous=FULL (the default): every commit waits for the disk.",
    ),
    Group(
        name="projections.rebuild_sync_normal",
        unit="events",
        cases=_cases("NORMAL"),
        baseline="checkpoint per event",
        target=20.0,
        notes=_NOTES + "synchronous=NORMAL: commits do not wait for the disk, so the naive projector pays only "
                       "the per-transaction CPU cost — the honest lower bound of the ratio.",
    ),
]
