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


WRONG = {"upcast_payment": [
    Wrong("int() truncates 28.999… to 28", truncates),
    Wrong("rounds down", rounds_down),
    Wrong("keeps the old amount field", keeps_old_field),
    Wrong("modifies the stored event", edits_in_place),
    Wrong("still says version 1", stays_v1),
    Wrong("no currency", no_currency),
    Wrong("cents as a float", euros_as_float),
]}

GIVEAWAYS = {"upcast_payment": ("round(raw.data[\"amount\"] * 100)", "round(amount * 100)", "\"currency\": \"EUR\"")}
