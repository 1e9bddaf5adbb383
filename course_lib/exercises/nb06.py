"""Notebook 06's exercises: the retry decision, a consumer callback that swallowed failures, an idempotent handler.

``retry_route``: the learner reads the ``x-death`` header and picks where a failed message goes next — the delay
queue for this retry, or the dead-letter queue once the retries are used up. The check feeds it headers shaped
the way RabbitMQ writes them: entries for other queues and reasons, one delay queue per step or one delay queue
used several times (an entry whose ``count`` is above 1).

``swallowing_callback`` (find the bug): a raw pika ``on_message`` callback acks even when the charge failed. The
check runs the repaired callback against a real queue with a charge that fails for one payment, closes the
channel as a crash would, and looks on the broker: the failed payment must still be there, every charged one
acked once.

``idempotent_payments``: an idempotent payment handler.

Delivery is at least once, so the same payment can arrive twice (the consumer took effect, then died before its
ack). The learner writes a class whose ``handle(delivery)`` adds each payment's ``amount_cents`` to
``total_cents`` exactly once. The check feeds it a stream with real duplicates, a redelivered message that was
*never* processed (it must count!), and two different payments for the same order (both must count).
"""

from __future__ import annotations

import copy
import uuid
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




ROUTE_HINTS = Hints(
    concept="Each time a delay queue's TTL expires, RabbitMQ dead-letters the message back and records it in the "
            "`x-death` header: a list with one entry per (queue, reason), each with a `count`, newest first. The "
            "retries a message has had are the expiries of *your* delay queues — not every entry in the list.",
    approach="Add up `count` over the entries whose queue is one of the delay queues and whose reason is "
             "'expired' (a message can carry entries from other queues, and one delay queue can appear with a "
             "count above 1). That sum says which retry comes next; once the retries are used up, the message "
             "is parked.",
    skeleton="def retry_route(headers, delay_queues, dead_letter_queue):\n    deaths = (headers or {}).get("
             "\"x-death\") or []\n    retries = ...  # add up the right counts\n    if ...:\n        return ...\n"
             "    return dead_letter_queue",
)

_DELAYS = ["payments.retry.200ms", "payments.retry.400ms", "payments.retry.800ms"]
_DLQ = "payments.dlq"


def _death(queue: str, count: int = 1, reason: str = "expired") -> dict[str, Any]:
    return {"queue": queue, "reason": reason, "count": count, "exchange": "",
            "routing-keys": [queue]}


# (headers, delay queues, expected route, what the case is about)
ROUTE_CASES: list[tuple[dict[str, Any] | None, list[str], str, str]] = [
    (None, _DELAYS, _DELAYS[0], "a first failure (no headers at all)"),
    ({}, _DELAYS, _DELAYS[0], "a first failure (no x-death)"),
    ({"x-death": [_death(_DELAYS[0])]}, _DELAYS, _DELAYS[1], "a message back from its first delay"),
    ({"x-death": [_death(_DELAYS[1]), _death(_DELAYS[0])]}, _DELAYS, _DELAYS[2], "a message back from two delays"),
    ({"x-death": [_death(_DELAYS[2]), _death(_DELAYS[1]), _death(_DELAYS[0])]}, _DELAYS, _DLQ,
     "a message that has used up all three retries"),
    ({"x-death": [_death("payments-intake", 2, "rejected")]}, _DELAYS, _DELAYS[0],
     "a first failure of a message rejected twice by an upstream queue before it reached payments"),
    ({"x-death": [_death(_DELAYS[0]), _death("payments-intake", 1, "rejected")]}, _DELAYS, _DELAYS[1],
     "a message from an upstream queue, back from its first delay"),
    ({"x-death": [_death("payments.retry.1000ms", 2)]}, ["payments.retry.1000ms"] * 3, "payments.retry.1000ms",
     "a policy with one 1 s delay queue for all three retries, after two of them"),
    ({"x-death": [_death("payments.retry.1000ms", 3)]}, ["payments.retry.1000ms"] * 3, _DLQ,
     "a policy with one 1 s delay queue for all three retries, after all three"),
    ({"x-death": [_death("payments.retry.1000ms", 2), _death("payments", 2, "rejected")]},
     ["payments.retry.1000ms"] * 3, "payments.retry.1000ms",
     "a message rejected twice by its consumer and twice back from the one 1 s delay queue"),
    ({"x-death": [_death("payments", 3, "rejected"), _death("payments.retry.1000ms", 3)]},
     ["payments.retry.1000ms"] * 3, _DLQ, "a message rejected three times and three times back from the delay queue"),
    ({"x-death": [_death(_DELAYS[0], 1, "rejected")]}, _DELAYS, _DELAYS[0],
     "a first failure whose only x-death entry is not an expiry (someone rejected it from the delay queue)"),
]


@exercise("nb06.retry_route", title="the retry decision: delay queue or dead-letter queue", level="★★",
          minutes=15, hints=ROUTE_HINTS)
def check_retry_route(retry_route: Any) -> CheckResult:
    """Does ``retry_route(headers, delay_queues, dead_letter_queue)`` send each failure to the right queue?"""
    if retry_route is None:
        return not_attempted("write retry_route(headers, delay_queues, dead_letter_queue) and assign it")
    if not callable(retry_route):
        return wrong(f"retry_route must be a function, got {type(retry_route).__name__}")
    for headers, delays, expected, about in ROUTE_CASES:
        got = retry_route(copy.deepcopy(headers), list(delays), _DLQ)
        if got == expected:
            continue
        if got == _DLQ:
            return wrong(f"for {about}, your function parks the message, but it still has a retry left")
        if expected == _DLQ:
            return wrong(f"for {about}, your function sends it to {got!r}: a retry too many")
        return wrong(f"for {about}, your function sends it to {got!r}: that is not the delay for the retry that "
                     "comes next")
    return solved(f"all {len(ROUTE_CASES)} failures routed right: the next delay queue, or parked once retries "
                  "are used up")


CALLBACK_HINTS = Hints(
    concept="An ack tells the broker 'this message is done, forget it'. A callback that acks a payment whose "
            "charge failed has lost it: nothing will retry it, and no error reaches anyone.",
    approach="Send the ack only on the path where the work succeeded. On the failure path, hand the message back "
             "to the broker (or let the error escape so it stays unacked), so it is delivered again.",
    skeleton="def make_on_payment(charge):\n    def on_payment(channel, method, properties, body):\n        try:\n"
             "            ...\n        except Exception:\n            ...  # the broker must keep it\n"
             "            return\n        ...\n    return on_payment",
)


def run_callback_on_broker(make_on_payment: Any, bodies: list[bytes], fails: bytes,
                           url: str | None = None, time_limit: float = 15.0,
                           idle: float = 3.0) -> dict[str, Any]:
    """Consume ``bodies`` from a fresh queue with the callback, a charge that fails for ``fails``; then crash.

    Consumption stops once every payment reached the charge, after ``idle`` seconds in which nothing reached it,
    or after ``time_limit``. Returns what the broker holds after the channel closed (``left``: bodies still in the
    queue), the charges that succeeded and every attempt, the exceptions that escaped the callback, and why the
    broker closed the consumer's channel (if it did).
    """
    import time

    import pika

    from course_lib.config import get_settings

    queue = f"nb06-find-the-bug-{uuid.uuid4().hex[:8]}"
    connection = pika.BlockingConnection(pika.URLParameters(url or get_settings().rabbitmq_url))
    charged: list[bytes] = []
    attempts: list[bytes] = []
    escaped: list[str] = []
    closed_by_broker = ""

    def charge(body: bytes) -> None:
        attempts.append(body)
        if body == fails:
            raise ConnectionError(f"payment provider timed out for {body.decode()}")
        charged.append(body)

    try:
        channel = connection.channel()
        channel.queue_declare(queue, exclusive=True)
        channel.confirm_delivery()
        for body in bodies:
            channel.basic_publish("", queue, body)
        consumer = connection.channel()
        consumer.basic_qos(prefetch_count=10)
        consumer.basic_consume(queue, make_on_payment(charge))
        others = set(bodies) - {fails}
        deadline = time.monotonic() + time_limit
        seen, progress = 0, time.monotonic()
        while time.monotonic() < deadline and not (others <= set(attempts) and fails in attempts):
            if len(attempts) != seen:
                seen, progress = len(attempts), time.monotonic()
            elif time.monotonic() - progress > idle:
                break  # nothing reaches the callback any more
            try:
                connection.process_data_events(time_limit=0.1)
            except Exception as exc:  # an error the callback let escape: a worker would log it and go on
                escaped.append(f"{type(exc).__name__}: {exc}")
        try:
            consumer.close()  # the crash: every unacked message goes back to the queue
        except pika.exceptions.ChannelClosedByBroker as exc:
            closed_by_broker = exc.reply_text
        left: list[bytes] = []
        while True:
            method, _props, body = channel.basic_get(queue, auto_ack=True)
            if method is None:
                break
            left.append(body)
        channel.queue_delete(queue)
    finally:
        if connection.is_open:
            connection.close()
    return {"left": left, "charged": charged, "attempts": attempts, "escaped": escaped,
            "closed_by_broker": closed_by_broker}


@exercise("nb06.swallowing_callback", title="repair a callback that acks a failed payment", level="★★",
          minutes=10, hints=CALLBACK_HINTS)
def check_swallowing_callback(make_on_payment: Any) -> CheckResult:
    """Run the repaired callback on the broker with one failing charge: is the failed payment still there?"""
    if make_on_payment is None:
        return not_attempted("repair make_on_payment and assign it")
    if not callable(make_on_payment):
        return wrong(f"make_on_payment must be a function, got {type(make_on_payment).__name__}")
    bodies = [f"payment-{i}".encode() for i in range(1, 6)]
    fails = b"payment-3"
    outcome = run_callback_on_broker(make_on_payment, bodies, fails)
    if fails not in outcome["attempts"]:
        return wrong("the failing payment never reached the charge: does the callback call charge(body)?")
    if outcome["closed_by_broker"]:
        return wrong(f"the broker closed the consumer's channel ({outcome['closed_by_broker']}): every delivery "
                     "takes exactly one answer")
    if fails not in outcome["left"]:
        return wrong("payment-3's charge failed, and after the consumer stopped the broker no longer has it: "
                     "it was acked (or rejected) as if it were done — that payment is lost")
    twice = sorted(b.decode() for b in set(outcome["left"]) & set(outcome["charged"]))
    if twice:
        return wrong(f"{twice} were charged, yet still in the queue after the consumer stopped: the broker will "
                     "deliver them again and they will be charged twice")
    missing = sorted(b.decode() for b in set(bodies) - {fails} - set(outcome["charged"]))
    if missing and outcome["escaped"]:
        return wrong(f"payment-3's error escaped the callback ({outcome['escaped'][0]}), the consumer stopped "
                     f"there, and {missing} waited, never charged: answer the broker for the failed message "
                     "and keep consuming")
    if missing:
        return wrong(f"{missing} were never charged")
    return solved("the failed payment stayed with the broker, to be delivered again; each charged payment was "
                  "acked once")


FIND_THE_BUG = ("check_swallowing_callback",)

CHECKS: dict[str, Check] = {"retry_route": check_retry_route, "swallowing_callback": check_swallowing_callback,
                             "idempotent_payments": check_idempotent_payments}

# checks that run the learner's code on a real broker: the test fixture that provides it (tests skip them
# locally when the service is down, and fail in CI)
NEEDS: dict[str, str] = {"swallowing_callback": "rabbitmq_url"}
