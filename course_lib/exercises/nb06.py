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
from course_lib.domain.events import OrderPaid
from course_lib.exercises import CheckResult, guarded, not_attempted, solved, wrong
from course_lib.messages import envelope, to_bytes
from course_lib.messaging.rabbitmq.wire import Delivery, properties_for

_HINTS = (
    "Define a class with `total_cents = 0` (set in __init__) and a method `handle(self, delivery)`; "
    "`delivery.message.amount_cents` is the amount, `delivery.properties.message_id` identifies the message.",
    "Remember which message ids you have already applied (a set) and skip those.",
    "Key on the message id, not the order id: one order can be paid in two instalments, two different messages.",
    "`redelivered=True` only says 'maybe seen before' — a message whose first delivery died before the handler ran "
    "must still count.",
)


def sample_deliveries() -> tuple[list[Delivery], int]:
    """A stream with duplicates, an unprocessed redelivery, and two payments of one order; and the right total."""
    clock, ids = FixedStepClock(), SequentialIds()
    payments = [
        envelope(OrderPaid(order_id="o-1", amount_cents=1250, payment_id="p-1"), clock=clock, ids=ids),
        envelope(OrderPaid(order_id="o-2", amount_cents=990, payment_id="p-2"), clock=clock, ids=ids),
        envelope(OrderPaid(order_id="o-2", amount_cents=500, payment_id="p-3"), clock=clock, ids=ids),
        envelope(OrderPaid(order_id="o-3", amount_cents=4000, payment_id="p-4"), clock=clock, ids=ids),
    ]

    def delivery(i: int, tag: int, redelivered: bool) -> Delivery:
        env = payments[i]
        return Delivery(body=to_bytes(env), properties=properties_for(env), routing_key="order.paid", exchange="shop",
                        redelivered=redelivered, delivery_tag=tag, envelope=env)

    stream = [delivery(0, 1, False), delivery(1, 2, False), delivery(0, 3, True),   # p-1 twice
              delivery(2, 4, False), delivery(3, 5, True),                          # p-4 first seen redelivered
              delivery(1, 6, True), delivery(2, 7, True)]                           # more duplicates
    return stream, sum(p.message.amount_cents for p in payments)


@guarded
def check_idempotent_payments(handler_class: Any) -> CheckResult:
    """Does ``handler_class().handle`` count every payment exactly once?"""
    if handler_class is None:
        return not_attempted("define your handler class and assign it to `PaymentTotals`", _HINTS[0])
    if not isinstance(handler_class, type):
        return wrong(f"assign the class itself, not an instance of {type(handler_class).__name__}", _HINTS[0])
    stream, expected = sample_deliveries()
    handler = handler_class()
    if not callable(getattr(handler, "handle", None)):
        return wrong(f"{handler_class.__name__} has no handle(delivery) method", _HINTS[0])
    for item in stream:
        handler.handle(item)
    total = getattr(handler, "total_cents", None)
    if total == expected:
        again = handler_class()
        for item in [replace(d, redelivered=False) for d in stream]:
            again.handle(item)
        if getattr(again, "total_cents", None) != expected:
            return wrong("the total depends on the redelivered flag; it must depend only on the message id",
                         _HINTS[3])
        return solved(f"total_cents == {expected}: {len(stream)} deliveries of 4 payments, each counted once")
    if not isinstance(total, int):
        return wrong(f"after handling, total_cents is {total!r}; it should be an int", _HINTS[0])
    if total > expected:
        return wrong(f"total_cents is {total}, expected {expected}: duplicates were counted", _HINTS[1])
    return wrong(f"total_cents is {total}, expected {expected}: some payments were skipped", *_HINTS[2:])


CHECKS = {"idempotent_payments": check_idempotent_payments}
