"""Wrong answers to notebook 07's exercises."""

from __future__ import annotations

from typing import Any

from solutions.wrong import Wrong


def by_customer(event: dict[str, Any]) -> str:
    return str(event["customer_id"])  # merges alice's two orders


def by_type(event: dict[str, Any]) -> str:
    return str(event["type"])  # splits one order over partitions


def constant(event: dict[str, Any]) -> str:
    return "orders"


def by_sku(event: dict[str, Any]) -> Any:
    return event.get("sku")


def whole_event(event: dict[str, Any]) -> str:
    return str(sorted(event.items()))


def lag_only_committed(committed: dict[int, int], log_start: dict[int, int], end: dict[int, int]) -> dict[int, int]:
    return {p: end[p] - c for p, c in committed.items()}


def lag_off_by_one(committed: dict[int, int], log_start: dict[int, int], end: dict[int, int]) -> dict[int, int]:
    return {p: max(0, high - committed.get(p, log_start[p]) - 1) for p, high in end.items()}


def lag_upside_down(committed: dict[int, int], log_start: dict[int, int], end: dict[int, int]) -> dict[int, int]:
    return {p: committed.get(p, log_start[p]) - high for p, high in end.items()}


def lag_uncommitted_is_zero(committed: dict[int, int], log_start: dict[int, int],
                            end: dict[int, int]) -> dict[int, int]:
    return {p: high - committed[p] if p in committed else 0 for p, high in end.items()}


def lag_from_offset_zero(committed: dict[int, int], log_start: dict[int, int], end: dict[int, int]) -> dict[int, int]:
    return {p: high - committed.get(p, 0) for p, high in end.items()}  # forgets that retention moved the log start


def lag_total(committed: dict[int, int], log_start: dict[int, int], end: dict[int, int]) -> Any:
    return sum(end.values()) - sum(committed.values())


WRONG = {
    "key_for": [
        Wrong("keyed by customer: merges independent orders", by_customer),
        Wrong("keyed by event type: splits one order", by_type),
        Wrong("one key for everything", constant),
        Wrong("keyed by sku (missing on most events)", by_sku),
        Wrong("the whole event as key", whole_event),
    ],
    "lag": [
        Wrong("only partitions with a commit", lag_only_committed),
        Wrong("off by one", lag_off_by_one),
        Wrong("committed minus end", lag_upside_down),
        Wrong("no commit counted as no lag", lag_uncommitted_is_zero),
        Wrong("no commit counted from offset 0, not the log start", lag_from_offset_zero),
        Wrong("one total instead of per partition", lag_total),
    ],
}

GIVEAWAYS = {"key_for": ('event["order_id"]', "event['order_id']"),
             "lag": ("high - committed.get(partition, log_start[partition])",
                     "committed.get(partition, log_start[partition])")}
