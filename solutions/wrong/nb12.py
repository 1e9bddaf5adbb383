"""Wrong answers to notebook 12's exercises."""

from __future__ import annotations

from collections import defaultdict
from typing import Any, ClassVar

from course_lib.messages import Envelope, Message
from course_lib.projections import Tx
from course_lib.shop.events import OrderItemAdded, OrderItemRemoved, OrderPaid
from solutions.nb12 import SkuSales
from solutions.wrong import Wrong


def _balance(charges: list[tuple[str, int]], refunds: list[tuple[str, int]]) -> dict[str, int]:
    balance: dict[str, int] = defaultdict(int)
    for order_id, cents in charges:
        balance[order_id] += cents
    for order_id, cents in refunds:
        balance[order_id] -= cents
    return balance


def ignores_refunds(charges: list[tuple[str, int]], refunds: list[tuple[str, int]], paid: dict[str, int],
                    cancelled: set[str]) -> set[str]:
    balance = _balance(charges, [])
    return ({o for o, t in paid.items() if balance[o] != t} | {o for o in cancelled if balance[o] != 0})


def only_paid_side(charges: list[tuple[str, int]], refunds: list[tuple[str, int]], paid: dict[str, int],
                   cancelled: set[str]) -> set[str]:
    balance = _balance(charges, refunds)
    return {o for o, t in paid.items() if balance[o] != t}  # never looks at cancelled orders


def only_charged_orders(charges: list[tuple[str, int]], refunds: list[tuple[str, int]], paid: dict[str, int],
                        cancelled: set[str]) -> set[str]:
    balance = _balance(charges, refunds)
    charged = {o for o, _ in charges}  # an order never charged is never looked at
    return ({o for o in charged & set(paid) if balance[o] != paid[o]}
            | {o for o in charged & cancelled if balance[o] != 0})


def counts_charges(charges: list[tuple[str, int]], refunds: list[tuple[str, int]], paid: dict[str, int],
                   cancelled: set[str]) -> set[str]:
    count: dict[str, int] = defaultdict(int)
    for order_id, _ in charges:
        count[order_id] += 1
    return {o for o, n in count.items() if n > 1}  # a double charge refunded once is still flagged


def more_than_total(charges: list[tuple[str, int]], refunds: list[tuple[str, int]], paid: dict[str, int],
                    cancelled: set[str]) -> set[str]:
    balance = _balance(charges, refunds)
    return ({o for o, t in paid.items() if balance[o] > t} | {o for o in cancelled if balance[o] != 0})


class CountsWhenAdded(SkuSales):
    """Counts an item as sold the moment it is added."""

    def on_OrderItemAdded(self, tx: Tx, e: OrderItemAdded, env: Envelope[Message]) -> None:
        tx.execute("INSERT INTO sku_sales (sku, units) VALUES (?, ?) ON CONFLICT (sku) "
                   "DO UPDATE SET units = sku_sales.units + excluded.units", (e.sku, e.quantity))

    def on_OrderPaid(self, tx: Tx, e: OrderPaid, env: Envelope[Message]) -> None:
        pass


class LinesReplaced(SkuSales):
    """Writes lines with INSERT OR REPLACE: the second addition of a SKU replaces the first."""

    def on_OrderItemAdded(self, tx: Tx, e: OrderItemAdded, env: Envelope[Message]) -> None:
        tx.execute("INSERT OR REPLACE INTO sku_sales_lines (order_id, sku, units) VALUES (?, ?, ?)",
                   (e.order_id, e.sku, e.quantity))


class RemovalIgnored(SkuSales):
    def on_OrderItemRemoved(self, tx: Tx, e: OrderItemRemoved, env: Envelope[Message]) -> None:
        pass


class LinesNotInTables(SkuSales):
    """Forgets to list the lines table: a rebuild leaves the old lines in place."""

    tables: ClassVar[tuple[str, ...]] = ("sku_sales",)


class PaysEveryOrdersLines(SkuSales):
    """A payment moves every order's lines, not just the paid order's."""

    def on_OrderPaid(self, tx: Tx, e: OrderPaid, env: Envelope[Message]) -> None:
        for sku, units in tx.execute("SELECT sku, units FROM sku_sales_lines").fetchall():
            tx.execute("INSERT INTO sku_sales (sku, units) VALUES (?, ?) ON CONFLICT (sku) "
                       "DO UPDATE SET units = sku_sales.units + excluded.units", (sku, units))
        tx.execute("DELETE FROM sku_sales_lines")


class LinesKeyedBySku(SkuSales):
    """One line per SKU for all orders together: orders' items merge."""

    def setup(self, tx: Tx) -> None:
        tx.execute("CREATE TABLE IF NOT EXISTS sku_sales (sku TEXT PRIMARY KEY, units INTEGER NOT NULL)")
        tx.execute("CREATE TABLE IF NOT EXISTS sku_sales_lines (order_id TEXT NOT NULL, sku TEXT PRIMARY KEY, "
                   "units INTEGER NOT NULL)")

    def on_OrderItemAdded(self, tx: Tx, e: OrderItemAdded, env: Envelope[Message]) -> None:
        tx.execute("INSERT INTO sku_sales_lines (order_id, sku, units) VALUES (?, ?, ?) ON CONFLICT (sku) "
                   "DO UPDATE SET units = sku_sales_lines.units + excluded.units, order_id = excluded.order_id",
                   (e.order_id, e.sku, e.quantity))


def an_instance() -> Any:
    return SkuSales()


WRONG = {"sku_sales": [
    Wrong("counts an item when it is added, paid or not", CountsWhenAdded),
    Wrong("lines written with INSERT OR REPLACE", LinesReplaced),
    Wrong("a removed item is still sold", RemovalIgnored),
    Wrong("the lines table is not listed in tables", LinesNotInTables),
    Wrong("a payment moves every order's lines", PaysEveryOrdersLines),
    Wrong("lines keyed by SKU only, merging orders", LinesKeyedBySku),
    Wrong("an instance instead of the class", an_instance()),
], "money_problems": [
    Wrong("refunds ignored", ignores_refunds),
    Wrong("looks at paid orders only", only_paid_side),
    Wrong("never looks at orders without a charge", only_charged_orders),
    Wrong("counts charges instead of summing money", counts_charges),
    Wrong("only too much is a problem, not too little", more_than_total),
]}

GIVEAWAYS = {"sku_sales": ("sku_sales_lines.units + excluded.units", "DELETE FROM sku_sales_lines WHERE order_id"),
             "money_problems": ("balance[order_id] != total", "balance[order_id] != 0")}
