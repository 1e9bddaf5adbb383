"""The capstone's invariants: what must hold after any amount of chaos, each a named, explained check.

- every order ends paid or cancelled;
- money: each paid order was charged its total exactly once, each cancelled order has a zero balance;
- stock: what left the warehouse is exactly what paid orders bought; cancelled orders hold no reservation;
- read models equal a rebuild from the event store;
- nothing lost: every outbox row reached Kafka, every submitted order reached the saga;
- nothing applied twice: one terminal event per order, one saga record per order, analytics totals match.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from course_lib.aggregates import Repository
from course_lib.messaging.kafka import TopicReader
from course_lib.projections import Projector, SQLiteReadModels, dump
from course_lib.shop.order import Order
from course_lib.shop.projections import CustomerTotals, OrderSummaries


@dataclass
class Report:
    """Each invariant's verdict: ``checks`` maps its name to ``""`` (holds) or what is wrong."""

    checks: dict[str, str] = field(default_factory=dict)
    numbers: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not any(self.checks.values())

    def failures(self) -> dict[str, str]:
        """Only the broken invariants."""
        return {name: why for name, why in self.checks.items() if why}

    def __str__(self) -> str:
        return "\n".join(f"{'✔' if not why else '✘'} {name}{': ' + why if why else ''}"
                         for name, why in self.checks.items())


def unsettled(statuses: dict[str, str], final: frozenset[str] = frozenset({"paid", "cancelled"})) -> list[str]:
    """Orders not in a final state."""
    return sorted(o for o, s in statuses.items() if s not in final)


def applied_twice(terminal_events: list[tuple[str, str]]) -> set[str]:
    """Orders with more than one terminal event (``OrderPaid``/``OrderCancelled``) among ``(order_id, type)``."""
    counts = Counter(order_id for order_id, kind in terminal_events if kind in ("OrderPaid", "OrderCancelled"))
    return {order_id for order_id, n in counts.items() if n > 1}


def check(shop: Any) -> Report:
    """Check every invariant of a settled ``CapstoneShop`` against its stores, services and brokers."""
    report = Report()
    events = shop.store.read_all(1, limit=1_000_000)
    orders = {env.message.order_id: Repository(shop.store, Order).load(env.message.order_id)
              for env in events if env.type == "OrderCreated"}
    statuses: dict[str, str] = {oid: o.status for oid, o in orders.items()}
    paid = {oid: o for oid, o in orders.items() if o.status == "paid"}
    cancelled = {oid: o for oid, o in orders.items() if o.status == "cancelled"}
    report.numbers.update(orders=len(orders), paid=len(paid), cancelled=len(cancelled), events=len(events))

    left = unsettled(statuses)
    report.checks["every order paid or cancelled"] = f"{len(left)} unsettled: {left[:5]}" if left else ""

    payment = shop.shop.payment
    wrong_money = [oid for oid, o in paid.items() if payment.balance(oid) != o.total_cents]
    wrong_money += [oid for oid in cancelled if payment.balance(oid) != 0]
    charged = Counter(oid for oid, _ in payment.charges)
    double = sorted(oid for oid, n in charged.items() if n > 1)
    revenue = sum(o.total_cents for o in paid.values())
    report.numbers["revenue_cents"] = revenue
    report.checks["money consistent"] = (
        f"balances wrong for {wrong_money[:5]}" if wrong_money else
        f"charged twice: {double[:5]}" if double else
        f"charges minus refunds {sum(a for _, a in payment.charges) - sum(a for _, a in payment.refunds)} "
        f"!= paid totals {revenue}" if sum(a for _, a in payment.charges) - sum(a for _, a in payment.refunds)
        != revenue else "")

    inventory = shop.shop.inventory
    sold: Counter[str] = Counter()
    for o in paid.values():
        for sku, line in o.items.items():
            sold[sku] += line["quantity"]
    gone = {sku: shop.initial_stock[sku] - inventory.stock.get(sku, 0) for sku in shop.initial_stock}
    held = sorted(set(inventory.reservations) - set(paid))
    report.checks["stock consistent"] = (
        f"stock taken {gone} != sold {dict(sold)}" if any(gone[s] != sold.get(s, 0) for s in gone) else
        f"cancelled orders still hold stock: {held[:5]}" if held else "")

    differences = []
    with tempfile.TemporaryDirectory() as tmp:
        fresh = SQLiteReadModels(Path(tmp) / "rebuild.db")
        try:
            for projection in (OrderSummaries(), CustomerTotals()):
                projector = Projector(shop.store, fresh, projection)
                projector.rebuild(progress=False)
                projector.close()
                if dump(fresh, projection) != dump(shop.read_models, projection):
                    differences.append(projection.name)
        finally:
            fresh.close()
    report.checks["read models equal a rebuild"] = f"differ: {differences}" if differences else ""

    written = shop.outbox.message_ids()
    with TopicReader(shop.names.events_topic, shop.bootstrap) as reader:
        records = reader.read_all(timeout=10.0)
    on_kafka = [str(r.envelope().message_id) for r in records]
    missing = written - set(on_kafka)
    submitted = {oid for oid, o in orders.items() if o.status in ("paid", "cancelled")}
    report.numbers.update(kafka_records=len(on_kafka), kafka_duplicates=len(on_kafka) - len(set(on_kafka)),
                          inbox_duplicates=shop.inbox.duplicates)
    report.checks["nothing lost"] = (
        f"{len(missing)} events never reached Kafka" if missing else
        f"the saga processed {shop.inbox.processed()} tasks for {len(submitted)} submitted orders"
        if shop.inbox.processed() < len(submitted) else "")

    terminal = [(env.message.order_id, env.type) for env in events if env.type in ("OrderPaid", "OrderCancelled")]
    twice = sorted(applied_twice(terminal))
    facts = Counter((env.metadata.stream_id, env.type, getattr(env.message, "sku", None)) for env in events
                    if (env.metadata.stream_id or "").startswith("saga-"))
    repeated = sorted(str(key[0]) for key, n in facts.items() if n > 1)
    analytics = sum(v for (_, key), v in shop.sales.items() if key == "revenue")
    report.numbers["analytics_revenue_cents"] = analytics
    report.checks["nothing applied twice"] = (
        f"more than one terminal event: {twice[:5]}" if twice else
        f"saga effects recorded twice for {repeated[:5]}" if repeated
        else f"sales per window add up to {analytics:.0f}, paid orders to {revenue}" if analytics != revenue else "")
    return report
