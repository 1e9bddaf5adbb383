"""The shop's read models: the order summary list, per-customer totals, and daily sales — plus their queries.

Each projection keeps whatever helper rows it needs (e.g. which customer placed an order) in its own tables, so
projections never read one another and each can be rebuilt alone.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from course_lib.buses import Query, QueryBus
from course_lib.messages import Envelope, Message
from course_lib.projections.projector import Projection
from course_lib.projections.readmodels import ReadModelStore, Tx
from course_lib.shop.events import (
    OrderCancelled,
    OrderCreated,
    OrderDelivered,
    OrderItemAdded,
    OrderItemRemoved,
    OrderPaid,
    OrderShipped,
    OrderSubmitted,
)

# ------------------------------------------------------------------------------------------- order summaries


class OrderSummaries(Projection):
    """One row per order: customer, status, item count, total."""

    name: ClassVar[str] = "order_summaries"
    tables: ClassVar[tuple[str, ...]] = ("order_summaries", "order_summary_lines")

    def setup(self, tx: Tx) -> None:
        tx.execute("CREATE TABLE IF NOT EXISTS order_summaries (order_id TEXT PRIMARY KEY, customer_id TEXT NOT NULL,"
                   " status TEXT NOT NULL, item_count INTEGER NOT NULL, total_cents BIGINT NOT NULL)")
        tx.execute("CREATE TABLE IF NOT EXISTS order_summary_lines (order_id TEXT NOT NULL, sku TEXT NOT NULL,"
                   " quantity INTEGER NOT NULL, line_cents BIGINT NOT NULL, PRIMARY KEY (order_id, sku))")

    def on_OrderCreated(self, tx: Tx, e: OrderCreated, env: Envelope[Message]) -> None:
        # a plain INSERT, not an upsert: applying an event twice would fail loudly instead of hiding a bug
        tx.execute("INSERT INTO order_summaries (order_id, customer_id, status, item_count, total_cents) "
                   "VALUES (?, ?, 'draft', 0, 0)", (e.order_id, e.customer_id))

    def on_OrderItemAdded(self, tx: Tx, e: OrderItemAdded, env: Envelope[Message]) -> None:
        cents = e.quantity * e.unit_price_cents
        tx.execute("INSERT INTO order_summary_lines (order_id, sku, quantity, line_cents) VALUES (?, ?, ?, ?) "
                   "ON CONFLICT (order_id, sku) DO UPDATE SET "
                   "quantity = order_summary_lines.quantity + excluded.quantity, "
                   "line_cents = order_summary_lines.line_cents + excluded.line_cents",
                   (e.order_id, e.sku, e.quantity, cents))
        tx.execute("UPDATE order_summaries SET item_count = item_count + ?, total_cents = total_cents + ? "
                   "WHERE order_id = ?", (e.quantity, cents, e.order_id))

    def on_OrderItemRemoved(self, tx: Tx, e: OrderItemRemoved, env: Envelope[Message]) -> None:
        row = tx.execute("SELECT quantity, line_cents FROM order_summary_lines WHERE order_id = ? AND sku = ?",
                         (e.order_id, e.sku)).fetchone()
        if row is None:
            return
        tx.execute("DELETE FROM order_summary_lines WHERE order_id = ? AND sku = ?", (e.order_id, e.sku))
        tx.execute("UPDATE order_summaries SET item_count = item_count - ?, total_cents = total_cents - ? "
                   "WHERE order_id = ?", (row[0], row[1], e.order_id))

    def _status(self, tx: Tx, order_id: str, status: str) -> None:
        tx.execute("UPDATE order_summaries SET status = ? WHERE order_id = ?", (status, order_id))

    def on_OrderSubmitted(self, tx: Tx, e: OrderSubmitted, env: Envelope[Message]) -> None:
        tx.execute("UPDATE order_summaries SET status = 'submitted', total_cents = ? WHERE order_id = ?",
                   (e.total_cents, e.order_id))

    def on_OrderPaid(self, tx: Tx, e: OrderPaid, env: Envelope[Message]) -> None:
        self._status(tx, e.order_id, "paid")

    def on_OrderShipped(self, tx: Tx, e: OrderShipped, env: Envelope[Message]) -> None:
        self._status(tx, e.order_id, "shipped")

    def on_OrderDelivered(self, tx: Tx, e: OrderDelivered, env: Envelope[Message]) -> None:
        self._status(tx, e.order_id, "delivered")

    def on_OrderCancelled(self, tx: Tx, e: OrderCancelled, env: Envelope[Message]) -> None:
        self._status(tx, e.order_id, "cancelled")


# ----------------------------------------------------------------------------------------- customer totals


class CustomerTotals(Projection):
    """Per customer: orders placed, orders submitted, and cents spent on submitted orders (minus cancellations)."""

    name: ClassVar[str] = "customer_totals"
    tables: ClassVar[tuple[str, ...]] = ("customer_totals", "customer_orders")

    def setup(self, tx: Tx) -> None:
        tx.execute("CREATE TABLE IF NOT EXISTS customer_totals (customer_id TEXT PRIMARY KEY, orders INTEGER NOT NULL,"
                   " submitted INTEGER NOT NULL, spent_cents BIGINT NOT NULL)")
        tx.execute("CREATE TABLE IF NOT EXISTS customer_orders (order_id TEXT PRIMARY KEY, customer_id TEXT NOT NULL,"
                   " submitted_cents BIGINT)")

    def on_OrderCreated(self, tx: Tx, e: OrderCreated, env: Envelope[Message]) -> None:
        tx.execute("INSERT INTO customer_orders (order_id, customer_id) VALUES (?, ?)", (e.order_id, e.customer_id))
        tx.execute("INSERT INTO customer_totals (customer_id, orders, submitted, spent_cents) VALUES (?, 1, 0, 0) "
                   "ON CONFLICT (customer_id) DO UPDATE SET "
                   "orders = customer_totals.orders + 1", (e.customer_id,))

    def on_OrderSubmitted(self, tx: Tx, e: OrderSubmitted, env: Envelope[Message]) -> None:
        row = tx.execute("SELECT customer_id FROM customer_orders WHERE order_id = ?", (e.order_id,)).fetchone()
        if row is None:
            return
        tx.execute("UPDATE customer_orders SET submitted_cents = ? WHERE order_id = ?", (e.total_cents, e.order_id))
        tx.execute("UPDATE customer_totals SET submitted = submitted + 1, spent_cents = spent_cents + ? "
                   "WHERE customer_id = ?", (e.total_cents, row[0]))

    def on_OrderCancelled(self, tx: Tx, e: OrderCancelled, env: Envelope[Message]) -> None:
        row = tx.execute("SELECT customer_id, submitted_cents FROM customer_orders WHERE order_id = ?",
                         (e.order_id,)).fetchone()
        if row is None or row[1] is None:
            return
        tx.execute("UPDATE customer_orders SET submitted_cents = NULL WHERE order_id = ?", (e.order_id,))
        tx.execute("UPDATE customer_totals SET submitted = submitted - 1, spent_cents = spent_cents - ? "
                   "WHERE customer_id = ?", (row[1], row[0]))


# --------------------------------------------------------------------------------------------- daily sales


class DailySales(Projection):
    """Per day (UTC, when the order was submitted): submitted orders and revenue, less later cancellations."""

    name: ClassVar[str] = "daily_sales"
    tables: ClassVar[tuple[str, ...]] = ("daily_sales", "daily_sales_orders")

    def setup(self, tx: Tx) -> None:
        tx.execute("CREATE TABLE IF NOT EXISTS daily_sales (day TEXT PRIMARY KEY, orders INTEGER NOT NULL,"
                   " revenue_cents BIGINT NOT NULL)")
        tx.execute("CREATE TABLE IF NOT EXISTS daily_sales_orders (order_id TEXT PRIMARY KEY, day TEXT NOT NULL,"
                   " total_cents BIGINT NOT NULL)")

    def on_OrderSubmitted(self, tx: Tx, e: OrderSubmitted, env: Envelope[Message]) -> None:
        day = env.metadata.occurred_at.date().isoformat()
        tx.execute("INSERT INTO daily_sales_orders (order_id, day, total_cents) VALUES (?, ?, ?)",
                   (e.order_id, day, e.total_cents))
        tx.execute("INSERT INTO daily_sales (day, orders, revenue_cents) VALUES (?, 1, ?) "
                   "ON CONFLICT (day) DO UPDATE SET "
                   "orders = daily_sales.orders + 1, "
                   "revenue_cents = daily_sales.revenue_cents + excluded.revenue_cents",
                   (day, e.total_cents))

    def on_OrderCancelled(self, tx: Tx, e: OrderCancelled, env: Envelope[Message]) -> None:
        row = tx.execute("SELECT day, total_cents FROM daily_sales_orders WHERE order_id = ?", (e.order_id,)).fetchone()
        if row is None:
            return
        tx.execute("DELETE FROM daily_sales_orders WHERE order_id = ?", (e.order_id,))
        tx.execute("UPDATE daily_sales SET orders = orders - 1, revenue_cents = revenue_cents - ? WHERE day = ?",
                   (row[1], row[0]))


# ------------------------------------------------------------------------------------------------- queries


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True)


class OrderSummary(_Row):
    order_id: str
    customer_id: str
    status: str
    item_count: int
    total_cents: int


class CustomerTotal(_Row):
    customer_id: str
    orders: int
    submitted: int
    spent_cents: int


class DaySales(_Row):
    day: str
    orders: int
    revenue_cents: int


class ListOrders(Query[list[OrderSummary]]):
    """Every order, newest id last; optionally only one customer's."""

    customer_id: str | None = None


class GetOrder(Query[OrderSummary | None]):
    order_id: str


class GetCustomerTotals(Query[list[CustomerTotal]]):
    """Customers by money spent, highest first."""


class GetDailySales(Query[list[DaySales]]):
    """Days in order."""


def register_shop_queries(bus: QueryBus, read_models: ReadModelStore) -> QueryBus:
    """Answer the shop's queries from ``read_models``; returns the bus."""

    def rows(sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return read_models.query(sql, params)

    order_cols = "order_id, customer_id, status, item_count, total_cents"

    def list_orders(q: ListOrders) -> list[OrderSummary]:
        if q.customer_id is None:
            found = rows(f"SELECT {order_cols} FROM order_summaries ORDER BY order_id")
        else:
            found = rows(f"SELECT {order_cols} FROM order_summaries WHERE customer_id = ? ORDER BY order_id",
                         (q.customer_id,))
        return [OrderSummary(**dict(zip(OrderSummary.model_fields, r, strict=True))) for r in found]

    def get_order(q: GetOrder) -> OrderSummary | None:
        found = rows(f"SELECT {order_cols} FROM order_summaries WHERE order_id = ?", (q.order_id,))
        return OrderSummary(**dict(zip(OrderSummary.model_fields, found[0], strict=True))) if found else None

    def customer_totals(q: GetCustomerTotals) -> list[CustomerTotal]:
        found = rows("SELECT customer_id, orders, submitted, spent_cents FROM customer_totals "
                     "ORDER BY spent_cents DESC, customer_id")
        return [CustomerTotal(**dict(zip(CustomerTotal.model_fields, r, strict=True))) for r in found]

    def daily_sales(q: GetDailySales) -> list[DaySales]:
        found = rows("SELECT day, orders, revenue_cents FROM daily_sales ORDER BY day")
        return [DaySales(**dict(zip(DaySales.model_fields, r, strict=True))) for r in found]

    bus.register(ListOrders, list_orders)
    bus.register(GetOrder, get_order)
    bus.register(GetCustomerTotals, customer_totals)
    bus.register(GetDailySales, daily_sales)
    return bus
