"""Wrong answers to notebook 04's exercise: projections that look right on a simple history."""

from __future__ import annotations

from typing import ClassVar

from course_lib.messages import Envelope, Message
from course_lib.projections import Tx
from course_lib.shop.events import OrderItemAdded, OrderItemRemoved
from solutions.nb04 import SkuUnits
from solutions.wrong import Wrong


class IgnoresRemoval(SkuUnits):
    def on_OrderItemRemoved(self, tx: Tx, e: OrderItemRemoved, env: Envelope[Message]) -> None:
        pass


class InsertOrReplaceLines(SkuUnits):
    """The line keeps only the last quantity added: add 2 mugs, then 1, then remove — 2 stay behind."""

    def on_OrderItemAdded(self, tx: Tx, e: OrderItemAdded, env: Envelope[Message]) -> None:
        tx.execute("INSERT OR REPLACE INTO sku_units_lines (order_id, sku, units) VALUES (?, ?, ?)",
                   (e.order_id, e.sku, e.quantity))
        tx.execute("INSERT INTO sku_units (sku, units) VALUES (?, ?) ON CONFLICT (sku) "
                   "DO UPDATE SET units = sku_units.units + excluded.units", (e.sku, e.quantity))


class LinesKeyedBySku(SkuUnits):
    """One line per SKU across all orders: removing order b's mugs takes order a's too."""

    def setup(self, tx: Tx) -> None:
        tx.execute("CREATE TABLE IF NOT EXISTS sku_units (sku TEXT PRIMARY KEY, units INTEGER NOT NULL)")
        tx.execute("CREATE TABLE IF NOT EXISTS sku_units_lines (sku TEXT PRIMARY KEY, units INTEGER NOT NULL)")

    def on_OrderItemAdded(self, tx: Tx, e: OrderItemAdded, env: Envelope[Message]) -> None:
        tx.execute("INSERT INTO sku_units_lines (sku, units) VALUES (?, ?) ON CONFLICT (sku) "
                   "DO UPDATE SET units = sku_units_lines.units + excluded.units", (e.sku, e.quantity))
        tx.execute("INSERT INTO sku_units (sku, units) VALUES (?, ?) ON CONFLICT (sku) "
                   "DO UPDATE SET units = sku_units.units + excluded.units", (e.sku, e.quantity))

    def on_OrderItemRemoved(self, tx: Tx, e: OrderItemRemoved, env: Envelope[Message]) -> None:
        line = tx.execute("SELECT units FROM sku_units_lines WHERE sku = ?", (e.sku,)).fetchone()
        if line is not None:
            tx.execute("DELETE FROM sku_units_lines WHERE sku = ?", (e.sku,))
            tx.execute("UPDATE sku_units SET units = units - ? WHERE sku = ?", (line[0], e.sku))


class RemovalDeletesTheSku(SkuUnits):
    def on_OrderItemRemoved(self, tx: Tx, e: OrderItemRemoved, env: Envelope[Message]) -> None:
        tx.execute("DELETE FROM sku_units WHERE sku = ?", (e.sku,))


class HelperTableNotReset(SkuUnits):
    """The lines table survives a rebuild, so every line is counted twice after it."""

    tables: ClassVar[tuple[str, ...]] = ("sku_units",)


class RemovalTakesOneUnit(SkuUnits):
    def on_OrderItemRemoved(self, tx: Tx, e: OrderItemRemoved, env: Envelope[Message]) -> None:
        tx.execute("UPDATE sku_units SET units = units - 1 WHERE sku = ?", (e.sku,))


WRONG = {"sku_units": [
    Wrong("removal ignored", IgnoresRemoval),
    Wrong("lines written with INSERT OR REPLACE", InsertOrReplaceLines),
    Wrong("lines keyed by SKU only, merging orders", LinesKeyedBySku),
    Wrong("a removal deletes the SKU's row for every order", RemovalDeletesTheSku),
    Wrong("the helper table is not listed in tables", HelperTableNotReset),
    Wrong("a removal takes one unit", RemovalTakesOneUnit),
    Wrong("an instance instead of the class", SkuUnits()),
]}

GIVEAWAYS = {"sku_units": ("sku_units_lines.units + excluded.units", "UPDATE sku_units SET units = units - ?",
                           "PRIMARY KEY (order_id, sku)")}
