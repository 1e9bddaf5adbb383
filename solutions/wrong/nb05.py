"""Wrong answers to notebook 05's exercise."""

from __future__ import annotations

from solutions.wrong import Wrong

WRONG = {"inventory_bindings": [
    Wrong("order.# catches every order event", ["order.#", "payment.declined"]),
    Wrong("order.* is one word: the item events have two", ["order.*", "payment.declined"]),
    Wrong("only the item events", ["order.item.*"]),
    Wrong("everything", ["#"]),
    Wrong("payment.* catches charged too", ["order.item.*", "order.cancelled", "payment.*"]),
    Wrong("forgot the declined payment", ["order.item.#", "order.cancelled"]),
    Wrong("*.item.* plus a typo", ["*.item.*", "order.canceled", "payment.declined"]),
]}

GIVEAWAYS = {"inventory_bindings": ("order.item.*", "order.item.#")}
