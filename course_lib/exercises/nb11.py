"""Notebook 11's exercise: an upcaster for a schema change.

Version 1 of ``PaymentCharged`` stored the amount as a float in euros (``{"order_id", "amount": 19.99}``).
Version 2 stores integer cents and the currency (``{"order_id", "amount_cents": 1999, "currency": "EUR"}``).
The learner writes ``upcast_payment_v1(raw)``: a ``RawEvent`` of v1 in, a ``RawEvent`` of v2 out. The check
registers it in a fresh registry and reads stored v1 events through it into the strict v2 class.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, ClassVar

from course_lib.clock import FixedStepClock, SequentialIds
from course_lib.exercises import Check, CheckResult, Hints, exercise, not_attempted, solved, wrong
from course_lib.messages import Event, RawEvent, Registry, envelope, from_dict, to_dict


class PaymentChargedV1(Event):
    """Last year's payment event: euros as a float."""

    order_id: str
    amount: float


class PaymentCharged(Event):
    """Today's payment event: integer cents and the currency (strict: unknown fields are refused)."""

    schema_version: ClassVar[int] = 2
    order_id: str
    amount_cents: int
    currency: str


SAMPLES = {"o-1": 12.5, "o-2": 19.99, "o-3": 0.29, "o-4": 100}
"""Stored v1 amounts; 19.99 and 0.29 are where ``int(amount * 100)`` goes one cent wrong."""

HINTS = Hints(
    concept="An upcaster turns a stored event of an old schema into the current schema as it is read, so the "
            "rest of the code only knows today's shape. The stored event itself is never changed.",
    approach="Return a new RawEvent of the same type at version 2, with a new dict: copy what did not change, "
             "convert euros to whole cents without losing a cent to floating point, and fill in what version 1 "
             "never recorded with what was true back then. Leave out the old field — the v2 class forbids "
             "unknown fields.",
    skeleton="def upcast_payment_v1(raw):\n    return RawEvent(raw.type, 2, {\n        \"order_id\": ...,\n"
             "        \"amount_cents\": ...,  # careful: 0.29 * 100 == 28.999999999999996\n        \"currency\": ...,\n"
             "    })",
)


def _registry(upcast: Callable[[RawEvent], Any]) -> Registry:
    reg = Registry()
    reg.add(PaymentCharged)
    reg.add_upcaster("PaymentCharged", 1, upcast)
    return reg


def stored_v1_events() -> list[dict[str, Any]]:
    """The v1 events as an event store holds them (``to_dict`` form, schema_version 1)."""
    clock, ids = FixedStepClock(), SequentialIds()
    old = Registry()
    old.add(PaymentChargedV1, name="PaymentCharged")
    return [to_dict(envelope(PaymentChargedV1(order_id=order, amount=amount), clock=clock, ids=ids))
            for order, amount in SAMPLES.items()]


@exercise("nb11.upcast_payment", title="an upcaster for a schema change", level="★★", minutes=10,
          hints=HINTS)
def check_upcast_payment(upcast_payment_v1: Any) -> CheckResult:
    """Upcast stored v1 payments with the learner's function and compare them with the expected v2 events."""
    if upcast_payment_v1 is None:
        return not_attempted("write upcast_payment_v1(raw) that turns a v1 PaymentCharged into v2")
    if not callable(upcast_payment_v1):
        return wrong(f"upcast_payment_v1 must be a function, got {type(upcast_payment_v1).__name__}")
    for order, amount in SAMPLES.items():
        raw = RawEvent("PaymentCharged", 1, {"order_id": order, "amount": amount})
        before = copy.deepcopy(raw.data)
        result = upcast_payment_v1(raw)
        if isinstance(result, list) and len(result) == 1:
            result = result[0]
        if not isinstance(result, RawEvent):
            return wrong(f"for {raw} your function returned {result!r}, not a RawEvent")
        if raw.data != before:
            return wrong("your function changed the stored event's data in place")
        if result.type != "PaymentCharged":
            return wrong(f"the type became {result.type!r}; this change keeps the name PaymentCharged")
        if result.schema_version != 2:
            return wrong(f"the result says schema_version {result.schema_version}; an upcaster from v1 must "
                         "produce v2 (otherwise the registry would run it forever)")
        data = result.data
        if "amount" in data:
            return wrong("the result still has the old 'amount' field")
        if data.get("currency") != "EUR":
            return wrong(f"currency is {data.get('currency')!r}: what currency were version 1's payments in?")
        expected = round(amount * 100)
        if data.get("amount_cents") == int(amount * 100) != expected:
            return wrong(f"{amount} euros became {data['amount_cents']} cents instead of {expected}")
        if data.get("amount_cents") != expected or not isinstance(data.get("amount_cents"), int):
            return wrong(f"{amount} euros became amount_cents={data.get('amount_cents')!r}; expected the int "
                         f"{expected}")
        if data.get("order_id") != order:
            return wrong(f"order_id is {data.get('order_id')!r}, expected {order!r}")
    reg = _registry(upcast_payment_v1)
    loaded = [from_dict(stored, reg) for stored in stored_v1_events()]
    totals = {env.message.order_id: env.message.amount_cents for env in loaded}  # type: ignore[attr-defined]
    if totals != {order: round(amount * 100) for order, amount in SAMPLES.items()}:
        return wrong(f"reading the stored events through your upcaster gave {totals}")
    return solved(f"{len(loaded)} stored v1 payments load into today's strict PaymentCharged v2 "
                  f"({', '.join(f'{a} € → {totals[o]} ¢' for o, a in SAMPLES.items())})")


CHECKS: dict[str, Check] = {"upcast_payment": check_upcast_payment}
