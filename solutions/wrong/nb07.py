"""Wrong answers to notebook 07's exercises."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from kafka.structs import OffsetAndMetadata

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



def _loop(*, commit_first: bool = False, never_commit: bool = False, commit_record_offset: bool = False,
          no_batch_limit: bool = False, no_deadline: bool = False, swallow: bool = False,
          commit_each_before: bool = False) -> Callable[..., int]:
    def loop(consumer: Any, process: Callable[[Any], None], *, max_records: int, deadline_s: float) -> int:
        deadline = time.monotonic() + deadline_s
        done = 0
        while done < max_records and (no_deadline or time.monotonic() < deadline):
            limit = None if no_batch_limit else max_records - done
            batch = consumer.poll(timeout_ms=200, max_records=limit)
            if batch and commit_first:
                consumer.commit()  # what was polled counts as done
            for partition, records in batch.items():
                for record in records:
                    if no_batch_limit and done >= max_records:
                        break
                    if commit_each_before:
                        consumer.commit({partition: OffsetAndMetadata(record.offset + 1, None, -1)})
                    try:
                        process(record)
                    except Exception as error:
                        if not swallow:
                            raise
                        print("skipped:", error)
                    done += 1
                    if commit_record_offset:
                        consumer.commit({partition: OffsetAndMetadata(record.offset, None, -1)})
            if batch and not (never_commit or commit_first or commit_record_offset or commit_each_before):
                consumer.commit()
        return done
    return loop


def charge_payments_as_given(consumer: Any, charge: Callable[[Any], None], *, max_records: int,
                             deadline_s: float) -> int:
    """The notebook's broken loop, as given."""
    deadline = time.monotonic() + deadline_s
    charged = 0
    while charged < max_records and time.monotonic() < deadline:
        batch = consumer.poll(timeout_ms=200, max_records=max_records - charged)
        if batch:
            consumer.commit()
        for records in batch.values():
            for record in records:
                charge(record)
                charged += 1
    return charged


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
    "poll_loop": [
        Wrong("commit before processing", _loop(commit_first=True)),
        Wrong("commits each record's next offset before processing it", _loop(commit_each_before=True)),
        Wrong("never commits", _loop(never_commit=True)),
        Wrong("commits record.offset: off by one", _loop(commit_record_offset=True)),
        Wrong("polls without max_records, commits the poll position", _loop(no_batch_limit=True)),
        Wrong("no deadline", _loop(no_deadline=True)),
        Wrong("skips a record that fails and commits past it", _loop(swallow=True)),
    ],
    "commit_order": [
        Wrong("as given: commits what it polled, then processes", charge_payments_as_given),
        Wrong("commits each record before charging it", _loop(commit_each_before=True)),
        Wrong("skips a failing charge and commits past it", _loop(swallow=True)),
        Wrong("removes the commit altogether", _loop(never_commit=True)),
        Wrong("commits record.offset after each charge", _loop(commit_record_offset=True)),
    ],
}

GIVEAWAYS = {"key_for": ('event["order_id"]', "event['order_id']"),
             "lag": ("high - committed.get(partition, log_start[partition])",
                     "committed.get(partition, log_start[partition])"),
             "poll_loop": ("max_records=max_records - done)", "process(record)\n                done += 1"),
             "commit_order": ("charge(record)\n                charged += 1",)}
