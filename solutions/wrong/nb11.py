"""Wrong answers to notebook 11's exercise."""

from __future__ import annotations

import math
from typing import Any

from course_lib.messages import RawEvent
from solutions.wrong import Wrong


def truncates(raw: RawEvent) -> RawEvent:
    return RawEvent(raw.type, 2, {"order_id": raw.data["order_id"], "amount_cents": int(raw.data["amount"] * 100),
                                  "currency": "EUR"})


def rounds_down(raw: RawEvent) -> RawEvent:
    return RawEvent(raw.type, 2, {"order_id": raw.data["order_id"],
                                  "amount_cents": math.floor(raw.data["amount"] * 100), "currency": "EUR"})


def keeps_old_field(raw: RawEvent) -> RawEvent:
    data = dict(raw.data)
    data.update(amount_cents=round(raw.data["amount"] * 100), currency="EUR")
    return RawEvent(raw.type, 2, data)


def edits_in_place(raw: RawEvent) -> RawEvent:
    amount = raw.data.pop("amount")
    raw.data.update(amount_cents=round(amount * 100), currency="EUR")
    return RawEvent(raw.type, 2, raw.data)


def stays_v1(raw: RawEvent) -> RawEvent:
    return RawEvent(raw.type, 1, {"order_id": raw.data["order_id"], "amount_cents": round(raw.data["amount"] * 100),
                                  "currency": "EUR"})


def no_currency(raw: RawEvent) -> RawEvent:
    return RawEvent(raw.type, 2, {"order_id": raw.data["order_id"],
                                  "amount_cents": round(raw.data["amount"] * 100)})


def euros_as_float(raw: RawEvent) -> Any:
    return RawEvent(raw.type, 2, {"order_id": raw.data["order_id"], "amount_cents": raw.data["amount"] * 100,
                                  "currency": "EUR"})


def add_currency(raw):  # type: ignore[no-untyped-def]
    """OrderItemAdded v1 → the current version: v1 recorded no currency."""
    # the notebook's hasty upcaster, as given
    data = raw.data
    data.setdefault("currency", "USD")
    return RawEvent(raw.type, 3, data)


def copies_but_skips_the_chain(raw: RawEvent) -> RawEvent:
    return RawEvent(raw.type, 3, {**raw.data, "currency": "EUR"})


def right_link_but_in_place(raw: RawEvent) -> RawEvent:
    data = raw.data
    data["currency"] = "EUR"
    return RawEvent(raw.type, 2, data)


def copies_but_dollars(raw: RawEvent) -> RawEvent:
    return RawEvent(raw.type, 2, {**raw.data, "currency": "USD"})


def forgets_the_price(raw: RawEvent) -> RawEvent:
    return RawEvent(raw.type, 2, {"order_id": raw.data["order_id"], "sku": raw.data["sku"],
                                  "qty": raw.data["qty"], "currency": "EUR"})


def stays_version_1(raw: RawEvent) -> RawEvent:
    return RawEvent(raw.type, 1, {**raw.data, "currency": "EUR"})


WRONG = {"hasty_upcaster": [
    Wrong("as given: in place, dollars, and claims version 3", add_currency),
    Wrong("copies and says euros, but still jumps to version 3", copies_but_skips_the_chain),
    Wrong("version 2 and euros, but written into the stored dict", right_link_but_in_place),
    Wrong("a copy and version 2, but dollars", copies_but_dollars),
    Wrong("a fresh dict that forgets the unit price", forgets_the_price),
    Wrong("the version never moves", stays_version_1),
], "upcast_payment": [
    Wrong("int() truncates 28.999… to 28", truncates),
    Wrong("rounds down", rounds_down),
    Wrong("keeps the old amount field", keeps_old_field),
    Wrong("modifies the stored event", edits_in_place),
    Wrong("still says version 1", stays_v1),
    Wrong("no currency", no_currency),
    Wrong("cents as a float", euros_as_float),
]}

GIVEAWAYS = {"hasty_upcaster": ('{**raw.data, "currency": "EUR"}',),
             "upcast_payment": ("round(raw.data[\"amount\"] * 100)", "round(amount * 100)", "\"currency\": \"EUR\"")}
