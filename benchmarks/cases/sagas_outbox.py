"""What reliability costs: the outbox in the append's transaction, and the orchestrator's persisted saga log.

- ``outbox.append``: SQLite appends (one order, two events, per transaction) with the outbox rows written in the
  same transaction, against the same appends without an outbox. The ratio is the price of not losing events.
- ``sagas.order``: the order saga through the orchestrator with its SQLite log at ``synchronous=FULL`` (every
  entry on disk before the next step), against the same log at NORMAL and OFF. The ratio is the price of a log
  that survives a power cut.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from benchmarks.runner import Case, Group, Measurement, timed
from course_lib.eventstore.sqlite import SQLiteEventStore
from course_lib.outbox import SQLiteOutbox
from course_lib.sagas import Orchestrator, SQLiteSagaLog
from course_lib.shop.events import OrderCreated, OrderSubmitted
from course_lib.shop.saga import order_data, order_saga
from course_lib.shop.services import Shop


def _appends(quick: bool, with_outbox: bool) -> Measurement:
    n = 40 if quick else 3_000
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "shop.db"
        store = SQLiteEventStore(db)
        outbox = SQLiteOutbox(db) if with_outbox else None
        hook = outbox.hook if outbox is not None else None

        def work() -> int:
            for i in range(n):
                store.append(f"order-{i}", [OrderCreated(order_id=str(i), customer_id="c"),
                                            OrderSubmitted(order_id=str(i), total_cents=100)], in_transaction=hook)
            return n

        measurement = timed(work)
        if outbox is not None:
            assert outbox.counts().written == 2 * n
            outbox.close()
        store.close()
    return measurement


def _saga(quick: bool, synchronous: str) -> Measurement:
    n = 10 if quick else 1_000
    shop = Shop.seeded(0, stock={"mug": 10 * n})
    with tempfile.TemporaryDirectory() as tmp:
        log = SQLiteSagaLog(Path(tmp) / "sagas.db", synchronous=synchronous)
        orchestrator = Orchestrator(order_saga(shop), log)

        def work() -> int:
            for i in range(n):
                orchestrator.start(f"s{i}", order_data(f"o{i}", {"mug": 1}, 100))
            return n

        measurement = timed(work)
        log.close()
    assert len(shop.payment.charges) == n
    return measurement


GROUPS = [
    Group(
        name="outbox.append",
        unit="orders",
        cases=[Case("course_lib", lambda quick: _appends(quick, True)),
               Case("append without outbox", lambda quick: _appends(quick, False))],
        baseline="append without outbox",
        notes="SQLite, synchronous=FULL, one transaction per order (2 events, + 2 outbox rows for course_lib).",
    ),
    Group(
        name="sagas.order",
        unit="sagas",
        cases=[Case("course_lib", lambda quick: _saga(quick, "FULL")),
               Case("log synchronous=NORMAL", lambda quick: _saga(quick, "NORMAL")),
               Case("log synchronous=OFF", lambda quick: _saga(quick, "OFF"))],
        baseline="log synchronous=OFF",
        notes="10 log entries per order saga, each its own transaction. course_lib uses FULL (every entry on disk "
              "before the next step); OFF is the floor: the same work without waiting for the disk.",
    ),
]
