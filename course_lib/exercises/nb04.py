"""Notebook 04's exercise: write a projection for a new read model — units ordered per SKU.

The learner completes a ``Projection`` subclass whose table ``sku_units(sku, units)`` holds, for each SKU, the
units currently in orders: ``OrderItemAdded`` adds its quantity, ``OrderItemRemoved`` takes the whole line away
again (the event names only the SKU, so the projection must remember each order's lines itself).

The check runs the learner's class for real: a projector builds it from a known history in a temporary SQLite
read-model store, rebuilds it, and compares the rows with the right answer.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from course_lib.domain.events import OrderCreated, OrderItemAdded, OrderItemRemoved, OrderSubmitted
from course_lib.eventstore.memory import InMemoryEventStore
from course_lib.exercises import CheckResult, guarded, not_attempted, solved, wrong
from course_lib.projections.projector import Projection, Projector
from course_lib.projections.readmodels import SQLiteReadModels

_HINTS = (
    "Define on_OrderItemAdded(self, tx, event, env): add event.quantity to the SKU's row (INSERT … ON CONFLICT "
    "(sku) DO UPDATE SET units = sku_units.units + excluded.units).",
    "OrderItemRemoved carries only order_id and sku: remember each line's quantity in sku_units_lines when it is "
    "added, then look it up, subtract it from sku_units and delete the line when it is removed.",
    "Adding the same SKU twice to one order makes one line with the summed quantity.",
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
    return store


EXPECTED: dict[str, int] = {"mug": 3, "tea": 5, "poster": 1}
"""Units per SKU after the check's history: order b's 4 mugs were removed again."""


def _rows(read_models: SQLiteReadModels) -> dict[str, int]:
    return {sku: units for sku, units in read_models.query("SELECT sku, units FROM sku_units") if units != 0}


@guarded
def check_sku_units(answer: Any) -> CheckResult:
    """Is ``answer`` a Projection class that keeps ``sku_units`` right, through removals and a rebuild?"""
    if answer is None:
        return not_attempted("set `answer = SkuUnits` once your projection class is written.", *_HINTS[:1])
    if not (isinstance(answer, type) and issubclass(answer, Projection)):
        return wrong(f"answer should be your Projection subclass itself (the class), got {answer!r}",
                     "Write `answer = SkuUnits` — no parentheses.")
    if "sku_units" not in getattr(answer, "tables", ()):
        return wrong("the class's `tables` must list 'sku_units' (and any helper table), so a rebuild empties them",
                     "tables = ('sku_units', 'sku_units_lines')")
    store = _history()
    with tempfile.TemporaryDirectory() as tmp:
        read_models = SQLiteReadModels(Path(tmp) / "check.db")
        try:
            projector = Projector(store, read_models, answer(), batch_size=3)
            projector.catch_up(progress=False)
            got = _rows(read_models)
            if got != EXPECTED:
                if got.get("mug") == 7:
                    return wrong(f"sku_units shows {got}: the 4 mugs removed from order b are still counted",
                                 *_HINTS[1:])
                return wrong(f"sku_units shows {got}, expected {EXPECTED}", *_HINTS)
            projector.rebuild(progress=False)
            rebuilt = _rows(read_models)
            if rebuilt != EXPECTED:
                return wrong(f"after a rebuild sku_units shows {rebuilt}: the rebuild did not start from empty",
                             "List every table your projection writes in `tables` so reset() empties them.")
        finally:
            read_models.close()
    return solved(f"sku_units is {EXPECTED}, through a removal and a rebuild.")


CHECKS: dict[str, Callable[[Any], CheckResult]] = {"sku_units": check_sku_units}
