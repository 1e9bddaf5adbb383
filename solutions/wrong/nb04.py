"""Wrong answers to notebook 04's exercise: projections that look right on a simple history."""

from __future__ import annotations

import contextlib
from typing import Any, ClassVar

from course_lib.messages import Envelope, Message
from course_lib.projections import Projection, Tx
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


Batch = list[Envelope[Message]]


def as_given(read_models: Any, projection: Projection, batch: Batch) -> None:
    """The notebook's broken version: the rows commit, then the checkpoint in a second transaction."""
    last = batch[-1].metadata.position
    with read_models.transaction() as tx:
        for env in batch:
            projection.apply(tx, env)
    with read_models.transaction() as tx:
        tx.set_checkpoint(projection.name, last)


def checkpoint_first(read_models: Any, projection: Projection, batch: Batch) -> None:
    """The reverse order, still two transactions: 'mark the batch as taken, then do it'."""
    last = batch[-1].metadata.position
    with read_models.transaction() as tx:
        tx.set_checkpoint(projection.name, last)
    with read_models.transaction() as tx:
        for env in batch:
            projection.apply(tx, env)


def one_transaction_per_event(read_models: Any, projection: Projection, batch: Batch) -> None:
    """Each event's rows commit on their own; the checkpoint follows at the end of the batch."""
    for env in batch:
        with read_models.transaction() as tx:
            projection.apply(tx, env)
    with read_models.transaction() as tx:
        tx.set_checkpoint(projection.name, batch[-1].metadata.position)


def checkpoint_past_the_batch(read_models: Any, projection: Projection, batch: Batch) -> None:
    """One transaction, but the checkpoint is the next position to read (as a Kafka offset is), not the last done."""
    last = batch[-1].metadata.position or 0
    with read_models.transaction() as tx:
        for env in batch:
            projection.apply(tx, env)
        tx.set_checkpoint(projection.name, last + 1)


def checkpoint_at_the_batch_start(read_models: Any, projection: Projection, batch: Batch) -> None:
    """One transaction, but the checkpoint names the batch's first event instead of its last."""
    with read_models.transaction() as tx:
        for env in batch:
            projection.apply(tx, env)
        tx.set_checkpoint(projection.name, batch[0].metadata.position)


def crash_caught(read_models: Any, projection: Projection, batch: Batch) -> None:
    """The crash's traceback pointed at set_checkpoint, so the learner caught it there and committed anyway."""
    last = batch[-1].metadata.position
    with read_models.transaction() as tx:
        for env in batch:
            projection.apply(tx, env)
        with contextlib.suppress(Exception):  # the mistake on display
            tx.set_checkpoint(projection.name, last)


def batch_skipped_after_a_failure(read_models: Any, projection: Projection, batch: Batch) -> None:
    """One transaction, and a failed batch is 'handled' by giving up on it: the projector moves on."""
    last = batch[-1].metadata.position
    with contextlib.suppress(Exception), read_models.transaction() as tx:  # the mistake on display
        for env in batch:
            projection.apply(tx, env)
        tx.set_checkpoint(projection.name, last)


def no_checkpoint(read_models: Any, projection: Projection, batch: Batch) -> None:
    """One transaction for the rows, and the checkpoint left out as 'the second write that caused the trouble'."""
    with read_models.transaction() as tx:
        for env in batch:
            projection.apply(tx, env)


WRONG = {"sku_units": [
    Wrong("removal ignored", IgnoresRemoval),
    Wrong("lines written with INSERT OR REPLACE", InsertOrReplaceLines),
    Wrong("lines keyed by SKU only, merging orders", LinesKeyedBySku),
    Wrong("a removal deletes the SKU's row for every order", RemovalDeletesTheSku),
    Wrong("the helper table is not listed in tables", HelperTableNotReset),
    Wrong("a removal takes one unit", RemovalTakesOneUnit),
    Wrong("an instance instead of the class", SkuUnits()),
], "split_checkpoint": [
    Wrong("as given: the rows commit, then the checkpoint in a second transaction", as_given),
    Wrong("checkpoint committed first, then the rows in a separate transaction", checkpoint_first),
    Wrong("one transaction per event for the rows, the checkpoint after the batch", one_transaction_per_event),
    Wrong("one transaction, checkpoint one past the batch end", checkpoint_past_the_batch),
    Wrong("one transaction, checkpoint at the batch's first event", checkpoint_at_the_batch_start),
    Wrong("the crash caught around set_checkpoint and the rows committed anyway", crash_caught),
    Wrong("one transaction, a failed batch skipped and the projector carried on", batch_skipped_after_a_failure),
    Wrong("the checkpoint left out", no_checkpoint),
    Wrong("a string instead of the function", "project_batch"),
]}

GIVEAWAYS = {"sku_units": ("sku_units_lines.units + excluded.units", "UPDATE sku_units SET units = units - ?",
                           "PRIMARY KEY (order_id, sku)"),
             "split_checkpoint": ("projection.apply(tx, env)\n        tx.set_checkpoint", "same with block",
                                  "inside the first with", "move set_checkpoint")}
