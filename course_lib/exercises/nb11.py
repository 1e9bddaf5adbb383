"""Notebook 11's exercises: an upcaster for a change of unit (build), and a hasty upcaster to repair (find the bug).

**A change of unit** — version 1 of ``PaymentCharged`` stored the amount as a float in euros
(``{"order_id", "amount": 19.99}``). Version 2 stores integer cents and the currency
(``{"order_id", "amount_cents": 1999, "currency": "EUR"}``). The learner writes ``upcast_payment_v1(raw)``: a
``RawEvent`` of v1 in, a ``RawEvent`` of v2 out. The check registers it in a fresh registry and reads stored v1
events through it into the strict v2 class.

**A hasty upcaster** — ``OrderItemAdded`` went v1 → v2 (a ``currency``; v1 sales were all in euros) → v3 (``qty``
renamed ``quantity``). The notebook hands over a hand-written v1 → v2 upcaster that writes into the stored event's
dict, defaults the wrong currency and claims version 3, so the v2 → v3 rename never runs. The check reads stored
v1, v2 and v3 items through the learner's repair and the notebook's rename, into the strict v3 class.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from course_lib.clock import FixedStepClock, SequentialIds
from course_lib.exercises import Check, CheckResult, Hints, exercise, not_attempted, solved, wrong
from course_lib.messages import Event, RawEvent, Registry, envelope, from_dict, to_dict
from course_lib.versioning import rename_field


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


class OrderItemAdded(Event):
    """Today's item event, v3 (strict: unknown fields are refused)."""

    schema_version: ClassVar[int] = 3
    order_id: str
    sku: str
    quantity: int
    unit_price_cents: int
    currency: str


def stored_items() -> list[RawEvent]:
    """Item events as three releases stored them: two v1 (no currency, ``qty``), one v2 in dollars, one v3."""
    return [
        RawEvent("OrderItemAdded", 1, {"order_id": "1", "sku": "mug", "qty": 2, "unit_price_cents": 900}),
        RawEvent("OrderItemAdded", 1, {"order_id": "2", "sku": "tea", "qty": 5, "unit_price_cents": 350}),
        RawEvent("OrderItemAdded", 2, {"order_id": "3", "sku": "cap", "qty": 1, "unit_price_cents": 1200,
                                       "currency": "USD"}),
        RawEvent("OrderItemAdded", 3, {"order_id": "1", "sku": "pen", "quantity": 3, "unit_price_cents": 150,
                                       "currency": "EUR"}),
    ]


EXPECTED_ITEMS = [
    {"order_id": "1", "sku": "mug", "quantity": 2, "unit_price_cents": 900, "currency": "EUR"},
    {"order_id": "2", "sku": "tea", "quantity": 5, "unit_price_cents": 350, "currency": "EUR"},
    {"order_id": "3", "sku": "cap", "quantity": 1, "unit_price_cents": 1200, "currency": "USD"},
    {"order_id": "1", "sku": "pen", "quantity": 3, "unit_price_cents": 150, "currency": "EUR"},
]


@dataclass(frozen=True)
class ItemReplay:
    """Stored items read through a v1 → v2 upcaster and the v2 → v3 rename."""

    stored_before: list[RawEvent]
    stored_after: list[RawEvent]
    loaded: list[dict[str, Any]]
    error: str | None

    @property
    def changed_in_place(self) -> bool:
        """Whether reading changed the stored events themselves."""
        return self.stored_after != self.stored_before


def replay_items(upcast_v1: Callable[[RawEvent], Any]) -> ItemReplay:
    """Read ``stored_items()`` with ``upcast_v1`` for v1 and ``rename_field("qty", "quantity")`` for v2.

    Each item's current form is validated by the strict v3 class. This is the notebook's demonstration and the
    check's run.
    """
    stored = stored_items()
    before = copy.deepcopy(stored)
    reg = Registry()
    reg.add(OrderItemAdded)
    reg.add_upcaster("OrderItemAdded", 1, upcast_v1)
    reg.add_upcaster("OrderItemAdded", 2, rename_field("qty", "quantity", to_version=3))
    loaded: list[dict[str, Any]] = []
    error = None
    try:
        for raw in stored:
            (current,) = reg.upcast(raw)
            loaded.append(OrderItemAdded.model_validate(current.data).model_dump(include=set(EXPECTED_ITEMS[0])))
    except Exception as exc:  # the learner's upcaster may fail in any way: show it, as a replay would
        error = f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
    return ItemReplay(before, stored, loaded, error)


HASTY_HINTS = Hints(
    concept="An upcaster is one link of a chain: it turns version n into version n + 1 and nothing more, so the "
            "next link can take over. It builds a new event: the stored one is a fact, and the same dict may be "
            "read again. What it fills in for a field the old version lacked is what was true back then.",
    approach="Read the given upcaster line by line and ask three questions: does it write into raw.data? Which "
             "version does it claim to produce, and which upcaster is then skipped? Which currency did the shop "
             "sell in before currencies were recorded (the notebook says it in section 2)?",
    skeleton="def add_currency(raw):\n    data = ...  # a new dict: the stored one stays as it is\n"
             "    data[\"currency\"] = ...\n    return RawEvent(raw.type, ..., data)",
)


@exercise("nb11.hasty_upcaster", title="repair a hasty upcaster", level="★★", minutes=10, hints=HASTY_HINTS)
def check_hasty_upcaster(add_currency: Any) -> CheckResult:
    """Read v1, v2 and v3 items through the learner's v1 → v2 upcaster and the v2 → v3 rename."""
    if add_currency is None:
        return not_attempted("repair add_currency(raw), then pass it to the check")
    if not callable(add_currency):
        return wrong(f"add_currency must be a function, got {type(add_currency).__name__}")
    replay = replay_items(add_currency)
    if replay.changed_in_place:
        changed = next(a for a, b in zip(replay.stored_after, replay.stored_before, strict=True) if a != b)
        return wrong(f"reading changed a stored event: it is now {changed.data}. An upcaster must leave the event "
                     "it is given as it was and build a new one")
    sample = add_currency(stored_items()[0])
    version = getattr(sample, "schema_version", None)
    if version is not None and version > 2:
        return wrong(f"your upcaster turns a v1 item into version {version}, so the v2 → v3 upcaster (qty → "
                     "quantity) never runs on it: one link of the chain moves one version")
    if replay.error:
        return wrong(f"reading the stored items failed: {replay.error}")
    for got, expected in zip(replay.loaded, EXPECTED_ITEMS, strict=True):
        if got["currency"] != expected["currency"]:
            return wrong(f"order {got['order_id']}'s {got['sku']} reads with currency {got['currency']!r}: what did "
                         "the shop sell in before items recorded a currency?")
        if got != expected:
            return wrong(f"order {got['order_id']}'s {got['sku']} reads as {got}, expected {expected}")
    return solved("v1 items gain the euro and go on to v3 through the rename; the v2 item in dollars keeps its "
                  "currency; the stored events are untouched")


FIND_THE_BUG = ("check_hasty_upcaster",)
"""The checks whose exercise hands the learner a broken component to repair."""

CHECKS: dict[str, Check] = {"upcast_payment": check_upcast_payment, "hasty_upcaster": check_hasty_upcaster}
