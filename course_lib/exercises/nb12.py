"""Notebook 12's exercises: a read model that runs inside the shop (build), and the drill's money invariant.

**Units sold per SKU** — the learner completes the ``SkuSales`` projection: ``sku_sales(sku, units)`` holds the
units of each SKU in *paid* orders, so after any drill it must equal what left the warehouse. Items are remembered
per order (``sku_sales_lines``) until the order is paid (they count) or cancelled (they never will). The check runs
it in a real projector over a SQLite event store, crashes two batches before their commit and restarts the
projector (as the drill does), rebuilds it in place, and goes on; in the notebook the same class then joins the
running capstone's projectors for the chaos drill.

**The money invariant** — the learner writes ``money_problems(charges, refunds, paid, cancelled)``: ``charges`` and
``refunds`` are the payment service's ``(order_id, cents)`` lists, ``paid`` maps each paid order to its total,
``cancelled`` is the set of cancelled orders. It returns the set of order ids whose money is wrong: a paid order
whose charges minus refunds is not its total (charged twice, or never), or a cancelled order that still holds money.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from course_lib.eventstore.base import ANY
from course_lib.eventstore.sqlite import SQLiteEventStore
from course_lib.exercises import Check, CheckResult, Hints, exercise, not_attempted, solved, wrong
from course_lib.messages import Event
from course_lib.projections import Projection, Projector, SQLiteReadModels, dump
from course_lib.shop.events import (
    OrderCancelled,
    OrderCreated,
    OrderItemAdded,
    OrderItemRemoved,
    OrderPaid,
    OrderSubmitted,
)

HINTS = Hints(
    concept="An invariant is a statement about money that must hold however the run went: what was taken from a "
            "customer minus what was given back must match what the order says — the full total for a paid "
            "order, nothing for a cancelled one.",
    approach="Compute every order's balance from both lists (charges add, refunds subtract). Then judge every "
             "order that appears in paid or in cancelled — including one with no money movement at all, whose "
             "balance is 0.",
    skeleton="def money_problems(charges, refunds, paid, cancelled):\n    balance = defaultdict(int)\n"
             "    for order_id, cents in charges:\n        ...\n    for order_id, cents in refunds:\n        ...\n"
             "    return {...} | {...}",
)

Case = tuple[list[tuple[str, int]], list[tuple[str, int]], dict[str, int], set[str], set[str], str]

CASES: list[Case] = [
    # charges, refunds, paid totals, cancelled, expected problems, what the case is about
    ([("a", 500), ("b", 300)], [], {"a": 500, "b": 300}, set(), set(), "two orders paid once each"),
    ([("a", 500), ("a", 500)], [], {"a": 500}, set(), {"a"}, "a double charge"),
    ([("a", 500), ("c", 200)], [("c", 200)], {"a": 500}, {"c"}, set(), "a cancelled order refunded in full"),
    ([("c", 200)], [], {}, {"c"}, {"c"}, "a cancelled order that kept the money"),
    ([], [], {"d": 900}, set(), {"d"}, "a paid order that was never charged"),
    ([("e", 400), ("e", 400)], [("e", 400)], {"e": 400}, set(), set(),
     "a double charge that was refunded once (balance right)"),
]


@exercise("nb12.money_problems", title="the chaos drill's money invariant", level="★★", minutes=12,
          hints=HINTS)
def check_money_problems(money_problems: Any) -> CheckResult:
    """Run the learner's invariant on hand-made ledgers, each with a known answer."""
    if money_problems is None:
        return not_attempted("write money_problems(charges, refunds, paid, cancelled) returning the bad order ids")
    if not callable(money_problems):
        return wrong(f"money_problems must be a function, got {type(money_problems).__name__}")
    for charges, refunds, paid, cancelled, expected, about in CASES:
        got = money_problems(list(charges), list(refunds), dict(paid), set(cancelled))
        try:
            got_set = set(got)
        except TypeError:
            return wrong(f"money_problems returned {got!r}; return a set of order ids")
        if got_set != expected:
            return wrong(f"for {about}: expected {sorted(expected) or 'no problems'}, got {sorted(got_set) or 'none'}")
    return solved(f"all {len(CASES)} ledgers judged right: double charges, kept money and missing charges are "
                  "found, refunded cancellations pass")


SKU_HINTS = Hints(
    concept="A read model is a fold over the log, and it may only count what the log says happened: an item in "
            "an order is not a sale until the order is paid. Until then the projection must remember it itself, "
            "in its own table, because the payment event does not repeat the order's lines.",
    approach="Keep each order's lines (order, SKU, units): an added item adds to its line (the same SKU twice "
             "adds up), a removed item deletes its line. When the order is paid, add that order's lines to the "
             "units per SKU and forget them; when it is cancelled, just forget them. List both tables in `tables`, "
             "so a rebuild starts from empty.",
    skeleton="def on_OrderItemAdded(self, tx, e, env):\n    tx.execute('INSERT INTO sku_sales_lines ... ON CONFLICT "
             "... DO UPDATE ...', (...))\n\ndef on_OrderItemRemoved(self, tx, e, env):\n    ...\n\n"
             "def on_OrderPaid(self, tx, e, env):\n    for sku, units in tx.execute('SELECT ... WHERE order_id = ?', "
             "(...)).fetchall():\n        ...\n    ...  # forget the order's lines\n\n"
             "def on_OrderCancelled(self, tx, e, env):\n    ...",
)


def _history() -> list[tuple[str, list[Event]]]:
    """Five orders, interleaved as a busy shop writes them; o4 is still waiting for its payment."""
    def item(order: str, sku: str, quantity: int) -> OrderItemAdded:
        return OrderItemAdded(order_id=order, sku=sku, quantity=quantity, unit_price_cents=100)

    return [
        ("order-o1", [OrderCreated(order_id="o1", customer_id="c1"), item("o1", "mug", 2), item("o1", "tee", 1)]),
        ("order-o3", [OrderCreated(order_id="o3", customer_id="c2"), item("o3", "mug", 5)]),
        ("order-o2", [OrderCreated(order_id="o2", customer_id="c3"), item("o2", "poster", 1), item("o2", "tee", 2),
                      OrderItemRemoved(order_id="o2", sku="tee")]),
        ("order-o1", [item("o1", "mug", 1), OrderSubmitted(order_id="o1", total_cents=400)]),
        ("order-o4", [OrderCreated(order_id="o4", customer_id="c1"), item("o4", "tee", 1),
                      OrderSubmitted(order_id="o4", total_cents=100)]),
        ("order-o3", [OrderSubmitted(order_id="o3", total_cents=500)]),
        ("order-o5", [OrderCreated(order_id="o5", customer_id="c4"), item("o5", "mug", 1),
                      OrderSubmitted(order_id="o5", total_cents=100)]),
        ("order-o2", [OrderSubmitted(order_id="o2", total_cents=100)]),
        ("order-o1", [OrderPaid(order_id="o1", amount_cents=400, payment_id="p1")]),
        ("order-o3", [OrderCancelled(order_id="o3", reason="declined")]),
        ("order-o2", [OrderPaid(order_id="o2", amount_cents=100, payment_id="p2")]),
        ("order-o5", [OrderPaid(order_id="o5", amount_cents=100, payment_id="p5")]),
    ]


SOLD = {"mug": 4, "tee": 1, "poster": 1}
"""Units in paid orders after ``_history()``: o1 (3 mugs — added 2, then 1 more — and a tee), o2 (a poster; its
tees were removed), o5 (a mug); o3 was cancelled, o4 not paid yet."""


class _BeforeCommit(RuntimeError):
    """The drill's projector fault: a batch dies just before its commit."""


def _sold(read_models: SQLiteReadModels) -> dict[str, int]:
    rows = read_models.query("SELECT sku, units FROM sku_sales")
    return {str(sku): int(units) for sku, units in rows if units}


def _catch_up_through_crashes(store: SQLiteEventStore, read_models: SQLiteReadModels, projection_class: Any,
                              crashes: int) -> Projector:
    """Catch up while ``crashes`` batches die before their commit, restarting the projector after each."""
    left = [crashes]

    def fault(point: str, position: int) -> None:
        if point == "before_commit" and left[0] > 0:
            left[0] -= 1
            raise _BeforeCommit(f"projector killed before committing up to position {position}")

    for _ in range(crashes + 1):
        projector = Projector(store, read_models, projection_class(), batch_size=4, fault=fault)
        try:
            projector.catch_up(progress=False)
            return projector
        except _BeforeCommit:
            projector.close()  # a new instance resumes from the committed checkpoint
    raise AssertionError("the projector never caught up")


def _about(got: dict[str, int]) -> str:
    if got.get("mug", 0) >= 9 or got.get("tee", 0) >= 4:
        return ("items of orders that were never paid are counted — o3 was cancelled and o4 is still waiting: an "
                "item is sold when its order is paid")
    if got.get("mug") in (2, 3):
        return "o1 added mugs twice (2, then 1 more): both additions count"
    if got.get("tee", 0) >= 3:
        return "o2's tees were removed before it was paid: they were never sold"
    if got.get("mug", 0) > 4:
        return "an order's payment counted lines of other orders: only the paid order's own lines count"
    return "compare with what each paid order held when it was paid"


@exercise("nb12.sku_sales", title="a read model that runs inside the shop", level="★★★", minutes=20, hints=SKU_HINTS)
def check_sku_sales(projection_class: Any) -> CheckResult:
    """Project five orders through two crashed batches, rebuild in place, pay one more order, compare."""
    if projection_class is None:
        return not_attempted("complete SkuSales's methods, then pass the class: check_sku_sales(SkuSales)")
    if not (isinstance(projection_class, type) and issubclass(projection_class, Projection)):
        return wrong(f"pass the class itself (SkuSales, a Projection), not {type(projection_class).__name__}")
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteEventStore(Path(tmp) / "events.db")
        read_models = SQLiteReadModels(Path(tmp) / "read.db")
        fresh = SQLiteReadModels(Path(tmp) / "fresh.db")
        try:
            for stream, events in _history():
                store.append(stream, events, ANY)
            projector = _catch_up_through_crashes(store, read_models, projection_class, crashes=2)
            got = _sold(read_models)
            if got != SOLD:
                return wrong(f"after two crashed batches and restarts, sku_sales is {got}, expected {SOLD}: "
                             + _about(got))
            projector.rebuild(progress=False)
            store.append("order-o4", [OrderPaid(order_id="o4", amount_cents=100, payment_id="p4")], ANY)
            projector.catch_up(progress=False)
            projector.close()
            got, expected = _sold(read_models), {**SOLD, "tee": SOLD["tee"] + 1}
            if got != expected:
                return wrong(f"after a rebuild in place and o4's payment, sku_sales is {got}, expected {expected}: "
                             "did the rebuild start from empty tables? Every table the projection writes must be "
                             "in `tables`")
            Projector(store, fresh, projection_class()).catch_up(progress=False)
            if dump(fresh, projection_class()) != dump(read_models, projection_class()):
                return wrong("the read model differs from a rebuild from scratch: after every event, both tables "
                             "must hold what a fresh replay gives")
        finally:
            fresh.close()
            read_models.close()
            store.close()
    return solved("units sold per SKU are right through two crashed batches, a rebuild in place and a late "
                  "payment, and equal to a rebuild from scratch")


CHECKS: dict[str, Check] = {"sku_sales": check_sku_sales, "money_problems": check_money_problems}
