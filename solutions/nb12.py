"""Reference solutions for notebook 12 (the capstone). Keys match ``course_lib.exercises.nb12.CHECKS``."""

from __future__ import annotations

from collections import defaultdict
from typing import Any, ClassVar

from course_lib.messages import Envelope, Message
from course_lib.projections import Projection, Tx
from course_lib.shop.events import OrderCancelled, OrderItemAdded, OrderItemRemoved, OrderPaid


def money_problems(charges: list[tuple[str, int]], refunds: list[tuple[str, int]], paid: dict[str, int],
                   cancelled: set[str]) -> set[str]:
    """Orders whose balance (charges minus refunds) is not their total (paid) or not zero (cancelled)."""
    balance: dict[str, int] = defaultdict(int)
    for order_id, cents in charges:
        balance[order_id] += cents
    for order_id, cents in refunds:
        balance[order_id] -= cents
    bad = {order_id for order_id, total in paid.items() if balance[order_id] != total}
    return bad | {order_id for order_id in cancelled if balance[order_id] != 0}


class SkuSales(Projection):
    """Units of each SKU in paid orders; each order's lines are remembered until it is paid or cancelled."""

    name: ClassVar[str] = "sku_sales"
    tables: ClassVar[tuple[str, ...]] = ("sku_sales", "sku_sales_lines")

    def setup(self, tx: Tx) -> None:
        tx.execute("CREATE TABLE IF NOT EXISTS sku_sales (sku TEXT PRIMARY KEY, units INTEGER NOT NULL)")
        tx.execute("CREATE TABLE IF NOT EXISTS sku_sales_lines (order_id TEXT NOT NULL, sku TEXT NOT NULL, "
                   "units INTEGER NOT NULL, PRIMARY KEY (order_id, sku))")

    def on_OrderItemAdded(self, tx: Tx, e: OrderItemAdded, env: Envelope[Message]) -> None:
        tx.execute("INSERT INTO sku_sales_lines (order_id, sku, units) VALUES (?, ?, ?) ON CONFLICT (order_id, sku) "
                   "DO UPDATE SET units = sku_sales_lines.units + excluded.units", (e.order_id, e.sku, e.quantity))

    def on_OrderItemRemoved(self, tx: Tx, e: OrderItemRemoved, env: Envelope[Message]) -> None:
        tx.execute("DELETE FROM sku_sales_lines WHERE order_id = ? AND sku = ?", (e.order_id, e.sku))

    def on_OrderPaid(self, tx: Tx, e: OrderPaid, env: Envelope[Message]) -> None:
        lines = tx.execute("SELECT sku, units FROM sku_sales_lines WHERE order_id = ?", (e.order_id,)).fetchall()
        for sku, units in lines:
            tx.execute("INSERT INTO sku_sales (sku, units) VALUES (?, ?) ON CONFLICT (sku) "
                       "DO UPDATE SET units = sku_sales.units + excluded.units", (sku, units))
        tx.execute("DELETE FROM sku_sales_lines WHERE order_id = ?", (e.order_id,))

    def on_OrderCancelled(self, tx: Tx, e: OrderCancelled, env: Envelope[Message]) -> None:
        tx.execute("DELETE FROM sku_sales_lines WHERE order_id = ?", (e.order_id,))


ANSWERS: dict[str, Any] = {"sku_sales": SkuSales, "money_problems": money_problems}
