"""Reference solutions for notebook 11 (event versioning). Keys match ``course_lib.exercises.nb11.CHECKS``."""

from __future__ import annotations

from typing import Any

from course_lib.messages import RawEvent


def upcast_payment_v1(raw: RawEvent) -> RawEvent:
    """PaymentCharged v1 (float euros) → v2 (integer cents + currency); round, because floats are not exact."""
    return RawEvent(raw.type, 2, {
        "order_id": raw.data["order_id"],
        "amount_cents": round(raw.data["amount"] * 100),
        "currency": "EUR",  # v1 had no currency: every payment was in euros
    })


def add_currency(raw: RawEvent) -> RawEvent:
    """OrderItemAdded v1 → v2: a new dict with the currency v1 never recorded (every sale was in euros)."""
    return RawEvent(raw.type, 2, {**raw.data, "currency": "EUR"})


ANSWERS: dict[str, Any] = {"upcast_payment": upcast_payment_v1, "hasty_upcaster": add_currency}
