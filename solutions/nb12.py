"""Reference solutions for notebook 12 (the capstone). Keys match ``course_lib.exercises.nb12.CHECKS``."""

from __future__ import annotations

from collections import defaultdict
from typing import Any


def money_problems(charges: list[tuple[str, int]], refunds: list[tuple[str, int]], paid: dict[str, int],
                   cancelled: set[str]) -> set[str]:
    """Orders whose balance (charges minus refunds) is not their total (paid) or not zero (cancelled)."""
    balance: dict[str, int] = defaultdict(int)
    for order_id, cents in charges:
        balance[order_id] += cents
    for order_id, cents in refunds:
        balance[order_id] -= cents
    bad = {order_id for order_id, total in paid.items() if balance[order_id] != total}
    return bad | {order_id for order_id in cancelled if balance[order_id] != 0}


ANSWERS: dict[str, Any] = {"money_problems": money_problems}
