"""Notebook 04's exercise: write a projection for a new read model — units ordered per SKU.

The learner completes a ``Projection`` subclass whose table ``sku_units(sku, units)`` holds, for each SKU, the
units currently in orders: ``OrderItemAdded`` adds its quantity, ``OrderItemRemoved`` takes the whole line away
again (the event names only the SKU, so the projection must remember each order's lines itself).

The check runs the learner's class for real: a projector builds it from a known history in a temporary SQLite
read-model store, rebuilds it, and compares the rows with the right answer. One order adds the same SKU twice and
then removes it: a lines table written with ``INSERT OR REPLACE`` keeps only the last quantity and leaves units
behind after the removal.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from course_lib.eventstore.memory import InMemoryEventStore
from course_lib.exercises import Check, CheckResult, Hints, exercise, not_attempted, solved, wrong
from course_lib.projections.projector import Projection, Projector
from course_lib.projections.readmodels import SQLiteReadModels
from course_lib.shop.events import OrderCreated, OrderItemAdded, OrderItemRemoved, OrderSubmitted

HINTS = Hints(
    concept="A projection is a fold kept in tables: each event updates the rows it affects, in the same "
            "transaction as the checkpoint. To undo something later, the projection must have remembered it, "
            "because the undoing event carries less than the original.",
    approach="Keep two tables: the answer (units per SKU) and your own memory of every order's lines. An added "
             "item adds to its line and to its SKU — a second add of the same SKU in the same order adds, it does "
             "not overwrite. A removal looks its line up, takes exactly that many units off the SKU, and forgets "
             "the line. List both tables in `tables` so a rebuild starts from empty.",
    skeleton="def on_OrderItemAdded(self, tx, e, env):\n    tx.execute('INSERT INTO sku_units_lines ... ON CONFLICT "
             "... DO UPDATE SET ...', (...))\n    tx.execute('... sku_units ...', (...))\n\n"
             "def on_OrderItemRemoved(self, tx, e, env):\n    line = tx.execute('SELECT ... FROM sku_units_lines "
             "WHERE ...', (...)).fetchone()\n    if line is None:\n        return\n    ...  # forget the line, "
             "take its units off the SKU",
)


def _history() -> InMemoryEventStore:
    store = InMemoryEventStore()
    store.append("order-a", [
        OrderCreated(order_id="a", customer_id="ada"),
        OrderItemAdded(order_id="a", sku="mug", quantity=2, unit_price_cents=1250),
        OrderItemAdded(order_id="a", sku="tea", quantity=5, unit_price_cents=400),
        OrderItemAdded(order_id="a", sku="mug", quantity=1, unit_price_cents=1250),
        OrderSubmitted(order_id="a", total_cents=5750),
    ])
    store.append("order-b", [
        OrderCreated(order_id="b", customer_id="grace"),
        OrderItemAdded(order_id="b", sku="mug", quantity=4, unit_price_cents=1250),
        OrderItemAdded(order_id="b", sku="poster", quantity=1, unit_price_cents=900),
        OrderItemRemoved(order_id="b", sku="mug"),
    ])
    store.append("order-c", [
        OrderCreated(order_id="c", customer_id="linus"),
        OrderItemAdded(order_id="c", sku="mug", quantity=2, unit_price_cents=1250),
        OrderItemAdded(order_id="c", sku="mug", quantity=1, unit_price_cents=1250),
        OrderItemAdded(order_id="c", sku="tea", quantity=1, unit_price_cents=400),
        OrderItemRemoved(order_id="c", sku="mug"),
    ])
    return store


EXPECTED: dict[str, int] = {"mug": 3, "tea": 6, "poster": 1}
"""Units per SKU after the check's history: order b's 4 mugs and order c's 2 + 1 mugs were removed again."""


AFTER_REBUILD: dict[str, int] = {"mug": 3, "tea": 1, "poster": 1}
"""After the rebuild, order a removes its tea line: one tea (order c's) is left."""


def _rows(read_models: SQLiteReadModels) -> dict[str, int]:
    return {sku: units for sku, units in read_models.query("SELECT sku, units FROM sku_units") if units != 0}


def _diagnosis(got: dict[str, int]) -> str:
    """What the rows say about the mistake — in terms of the history, not of the code."""
    text = f"sku_units shows {got}, expected {EXPECTED}"
    if got.get("mug", 0) > EXPECTED["mug"]:
        return text + (": units of a removed line are still counted (order b adds 4 mugs and removes them; order c "
                       "adds 2 mugs, then 1 more, then removes the mug line)")
    if got.get("mug", 0) < EXPECTED["mug"]:
        return text + ": a removal took away more than the line held — mugs of another order went with it"
    return text


@exercise("nb04.sku_units", title="a projection with update and delete cases", level="★★★", minutes=25,
          hints=HINTS)
def check_sku_units(answer: Any) -> CheckResult:
    """Is ``answer`` a Projection class that keeps ``sku_units`` right, through removals and a rebuild?"""
    if answer is None:
        return not_attempted("set `answer = SkuUnits` once your projection class is written.")
    if not (isinstance(answer, type) and issubclass(answer, Projection)):
        return wrong(f"answer should be your Projection subclass itself (the class, no parentheses), got {answer!r}")
    if "sku_units" not in getattr(answer, "tables", ()):
        return wrong("the class's `tables` must list 'sku_units' (and every helper table), so a rebuild empties them")
    store = _history()
    with tempfile.TemporaryDirectory() as tmp:
        read_models = SQLiteReadModels(Path(tmp) / "check.db")
        try:
            projector = Projector(store, read_models, answer(), batch_size=3)
            projector.catch_up(progress=False)
            got = _rows(read_models)
            if got != EXPECTED:
                return wrong(_diagnosis(got))
            projector.rebuild(progress=False)
            rebuilt = _rows(read_models)
            if rebuilt != EXPECTED:
                return wrong(f"after a rebuild sku_units shows {rebuilt}: the rebuild did not start from empty — "
                             "something your projection remembers survived reset()")
            store.append("order-a", [OrderItemRemoved(order_id="a", sku="tea")])  # a line that lived through it
            projector.catch_up(progress=False)
            after = _rows(read_models)
            if after != AFTER_REBUILD:
                return wrong(f"after the rebuild, order a removed its 5 teas and sku_units shows {after}, expected "
                             f"{AFTER_REBUILD}: a line your projection remembers was counted twice by the rebuild "
                             "— something survived reset()")
        finally:
            read_models.close()
    return solved(f"sku_units is {EXPECTED} through removals, a second add of the same SKU and a rebuild, and a "
                  "removal after the rebuild takes exactly its line away")


CHECKS: dict[str, Check] = {"sku_units": check_sku_units}
