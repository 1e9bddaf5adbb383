"""Wrong answers to notebook 00's exercise."""

from __future__ import annotations

from solutions.wrong import Wrong

_RIGHT = {"CancelOrder": "OrderCancelled", "ReserveStock": "StockReserved", "ChargePayment": "PaymentCharged"}

WRONG = {"event_names": [
    Wrong("the commands themselves", {"CancelOrder": "CancelOrder", "ReserveStock": "ReserveStock",
                                      "ChargePayment": "ChargePayment"}),
    Wrong("verb first", {**_RIGHT, "CancelOrder": "CancelledOrder"}),
    Wrong("present tense", {**_RIGHT, "ReserveStock": "StockReserve"}),
    Wrong("snake_case", {**_RIGHT, "ChargePayment": "payment_charged"}),
    Wrong("a different fact", {**_RIGHT, "ChargePayment": "PaymentRefunded"}),
    Wrong("one key missing", {"CancelOrder": "OrderCancelled", "ReserveStock": "StockReserved"}),
]}

GIVEAWAYS = {"event_names": ("OrderCancelled", "StockReserved", "PaymentCharged")}
