"""Notebook 06's exercise: an idempotent payment handler.

Delivery is at least once, so the same payment can arrive twice (the consumer took effect, then died before its
ack). The learner writes a class whose ``handle(delivery)`` adds each payment's ``amount_cents`` to
``total_cents`` exactly once. The check feeds it a stream with real duplicates, a redelivered message that was
*never* processed (it must count!), and two different payments for the same order (both must count).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from course_lib.clock import FixedStepClock, SequentialIds
from course_lib.exercises import Check, CheckResult, Hints, exercise, not_attempted, solved, wrong
from course_lib.messages import envelope, to_bytes
from course_lib.messaging.rabbitmq.wire import Delivery, properties_for
from course_lib.shop.events import OrderPaid

HINTS = Hints(
    concept="Delivery is at least once: the same message can arrive again after a crash. An idempotent handler "
            "has the same effect however often a message arrives, because it remembers what it already applied.",
    approach="Pick something that stays the same when a message is redelivered and differs between two real "
             "payments — even two of the same amount, or for the same order. Remember it for every message you "
             "apply and skip any message you have applied before. The redelivered flag only means 'maybe'.",
    skeleton="class PaymentTotals:\n    def __init__(self):\n        self.total_cents = 0\n        self.applied = "
             "set()\n\n    def handle(self, delivery):\n        key = ...  # what identifies this message?\n"
             "        if ...:\n            return\n        ...",
)


def sample_deliveries() -> tuple[list[Delivery], int]:
    """Duplicates, an unprocessed redelivery, two payments of one order, two of one amount; and the right total."""
    clock, ids = FixedStepClock(), SequentialIds()
    payments = [
        envelope(OrderPaid(order_id="o-1", amount_cents=1250, payment_id="p-1"), clock=clock, ids=ids),
        envelope(OrderPaid(order_id="o-2", amount_cents=990, payment_id="p-2"), clock=clock, ids=ids),
        envelope(OrderPaid(order_id="o-2", amount_cents=500, payment_id="p-3"), clock=clock, ids=ids),
        envelope(OrderPaid(order_id="o-3", amount_cents=4000, payment_id="p-4"), clock=clock, ids=ids),
        envelope(OrderPaid(order_id="o-4", amount_cents=990, payment_id="p-5"), clock=clock, ids=ids),
    ]

    def delivery(i: int, tag: int, redelivered: bool) -> Delivery:
        env = payments[i]
        return Delivery(body=to_bytes(env), properties=properties_for(env), routing_key="order.paid", exchange="shop",
                        redelivered=redelivered, delivery_tag=tag, envelope=env)

    stream = [delivery(0, 1, False), delivery(1, 2, False), delivery(0, 3, True),   # p-1 twice
              delivery(2, 4, False), delivery(3, 5, True),                          # p-4 first seen redelivered
              delivery(1, 6, True), delivery(2, 7, True),                           # more duplicates
              delivery(4, 8, False)]                                                # same amount as p-2
    return stream, sum(p.message.amount_cents for p in payments)


@exercise("nb06.idempotent_payments", title="an idempotent payment handler", level="★★", minutes=12,
          hints=HINTS)
def check_idempotent_payments(handler_class: Any) -> CheckResult:
    """Does ``handler_class().handle`` count every payment exactly once?"""
    if handler_class is None:
        return not_attempted("define your handler class and assign it to `PaymentTotals`")
    if not isinstance(handler_class, type):
        return wrong(f"assign the class itself, not an instance of {type(handler_class).__name__}")
    stream, expected = sample_deliveries()
    handler = handler_class()
    if not callable(getattr(handler, "handle", None)):
        return wrong(f"{handler_class.__name__} has no handle(delivery) method")
    for item in stream:
        handler.handle(item)
    total = getattr(handler, "total_cents", None)
    if total == expected:
        again = handler_class()
        for item in [replace(d, redelivered=False) for d in stream]:
            again.handle(item)
        if getattr(again, "total_cents", None) != expected:
            return wrong("a fresh handler given the same deliveries without the redelivered flag (or after another "
                         f"handler ran) totals {getattr(again, 'total_cents', None)}, not {expected}: the result "
                         "must depend only on which messages arrived")
        return solved(f"total_cents == {expected}: {len(stream)} deliveries of 5 payments, each counted once")
    if not isinstance(total, int):
        return wrong(f"after handling, total_cents is {total!r}; it should be an int")
    if total > expected:
        return wrong(f"total_cents is {total}, expected {expected}: duplicates were counted")
    return wrong(f"total_cents is {total}, expected {expected}: some payments were skipped — two different "
                 "payments were taken for one (same order, same amount, or a first delivery marked redelivered)")


CHECKS: dict[str, Check] = {"idempotent_payments": check_idempotent_payments}
