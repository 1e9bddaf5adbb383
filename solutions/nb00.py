"""Reference solutions for notebook 00 (start here). Keys match ``course_lib.exercises.nb00.CHECKS``."""

from __future__ import annotations

from typing import Any

EVENT_NAMES = {
    "CancelOrder": "OrderCancelled",
    "ReserveStock": "StockReserved",
    "ChargePayment": "PaymentCharged",
}

ANSWERS: dict[str, Any] = {"event_names": EVENT_NAMES}
