"""Wrong answers to notebook 12's exercise."""

from __future__ import annotations

from collections import defaultdict

from solutions.wrong import Wrong


def _balance(charges: list[tuple[str, int]], refunds: list[tuple[str, int]]) -> dict[str, int]:
    balance: dict[str, int] = defaultdict(int)
    for order_id, cents in charges:
        balance[order_id] += cents
    for order_id, cents in refunds:
        balance[order_id] -= cents
    return balance


def ignores_refunds(charges: list[tuple[str, int]], refunds: list[tuple[str, int]], paid: dict[str, int],
                    cancelled: set[str]) -> set[str]:
    balance = _balance(charges, [])
    return ({o for o, t in paid.items() if balance[o] != t} | {o for o in cancelled if balance[o] != 0})


def only_paid_side(charges: list[tuple[str, int]], refunds: list[tuple[str, int]], paid: dict[str, int],
                   cancelled: set[str]) -> set[str]:
    balance = _balance(charges, refunds)
    return {o for o, t in paid.items() if balance[o] != t}  # never looks at cancelled orders


def only_charged_orders(charges: list[tuple[str, int]], refunds: list[tuple[str, int]], paid: dict[str, int],
                        cancelled: set[str]) -> set[str]:
    balance = _balance(charges, refunds)
    charged = {o for o, _ in charges}  # an order never charged is never looked at
    return ({o for o in charged & set(paid) if balance[o] != paid[o]}
            | {o for o in charged & cancelled if balance[o] != 0})


def counts_charges(charges: list[tuple[str, int]], refunds: list[tuple[str, int]], paid: dict[str, int],
                   cancelled: set[str]) -> set[str]:
    count: dict[str, int] = defaultdict(int)
    for order_id, _ in charges:
        count[order_id] += 1
    return {o for o, n in count.items() if n > 1}  # a double charge refunded once is still flagged


def more_than_total(charges: list[tuple[str, int]], refunds: list[tuple[str, int]], paid: dict[str, int],
                    cancelled: set[str]) -> set[str]:
    balance = _balance(charges, refunds)
    return ({o for o, t in paid.items() if balance[o] > t} | {o for o in cancelled if balance[o] != 0})


WRONG = {"money_problems": [
    Wrong("refunds ignored", ignores_refunds),
    Wrong("looks at paid orders only", only_paid_side),
    Wrong("never looks at orders without a charge", only_charged_orders),
    Wrong("counts charges instead of summing money", counts_charges),
    Wrong("only too much is a problem, not too little", more_than_total),
]}

GIVEAWAYS = {"money_problems": ("balance[order_id] != total", "balance[order_id] != 0")}
