"""Reference solution for notebook 04 (CQRS and projections). Keys match ``course_lib.exercises.nb04.CHECKS``."""

from __future__ import annotations

from typing import Any, ClassVar

from course_lib.messages import Envelope, Message
from course_lib.projections import Projection, Tx
from course_lib.shop.events import OrderItemAdded, OrderItemRemoved


class SkuUnits(Projection):
    """Units currently in orders, per SKU; each order's lines are remembered so a removal can be undone."""

    name: ClassVar[str] = "sku_units"
    tables: ClassVar[tuple[str, ...]] = ("sku_units", "sku_units_lines")

    def setup(self, tx: Tx) -> None:
        tx.execute("CREATE TABLE IF NOT EXISTS sku_units (sku TEXT PRIMARY KEY, units INTEGER NOT NULL)")
        tx.execute("CREATE TABLE IF NOT EXISTS sku_units_lines (order_id TEXT NOT NULL, sku TEXT NOT NULL, "
                   "units INTEGER NOT NULL, PRIMARY KEY (order_id, sku))")

    def on_OrderItemAdded(self, tx: Tx, e: OrderItemAdded, env: Envelope[Message]) -> None:
        tx.execute("INSERT INTO sku_units_lines (order_id, sku, units) VALUES (?, ?, ?) ON CONFLICT (order_id, sku) "
                   "DO UPDATE SET units = sku_units_lines.units + excluded.units", (e.order_id, e.sku, e.quantity))
        tx.execute("INSERT INTO sku_units (sku, units) VALUES (?, ?) ON CONFLICT (sku) "
                   "DO UPDATE SET units = sku_units.units + excluded.units", (e.sku, e.quantity))

    def on_OrderItemRemoved(self, tx: Tx, e: OrderItemRemoved, env: Envelope[Message]) -> None:
        line = tx.execute("SELECT units FROM sku_units_lines WHERE order_id = ? AND sku = ?",
                          (e.order_id, e.sku)).fetchone()
        if line is None:
            return
        tx.execute("DELETE FROM sku_units_lines WHERE order_id = ? AND sku = ?", (e.order_id, e.sku))
        tx.execute("UPDATE sku_units SET units = units - ? WHERE sku = ?", (line[0], e.sku))


ANSWERS: dict[str, Any] = {"sku_units": SkuUnits}
