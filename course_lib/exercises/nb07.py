"""Notebook 07's exercises: choose a record key that keeps each order in order, and compute consumer lag.

- ``key_for(event)`` gets an event dict (``order_id``, ``customer_id``, ``type``, ``sku``…) and returns the record
  key. Kafka keeps order only within a partition, and a key always maps to the same partition: all events of one
  order must share a key, and different orders should get different keys so the load spreads.
- ``lag(committed, log_start, end)`` gets {partition: committed offset} (partitions with no commit are missing),
  {partition: log-start offset} (the first record still stored) and {partition: high-water mark}; it returns
  {partition: records the group still has to read} for every partition in ``end``. A group with no commit on a
  partition starts where ``auto_offset_reset`` says — the course uses ``earliest``: the log start, which is not 0
  once retention has deleted old records.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from course_lib.exercises import Check, CheckResult, Hints, exercise, not_attempted, solved, wrong

KEY_HINTS = Hints(
    concept="Kafka keeps order only within one partition, and a record's key decides its partition: the same key "
            "always lands on the same partition.",
    approach="Ask which events must be processed in the order they happened relative to each other, and which are "
             "independent. Key by the field that groups exactly the first kind — nothing coarser (it would pile "
             "independent work onto one partition), nothing finer (it would split what must stay in order).",
    skeleton="def key_for(event):\n    return str(event[...])  # which field?",
)
LAG_HINTS = Hints(
    concept="Lag is how many records a consumer group has not processed yet. A committed offset is the next "
            "record the group will read; the high-water mark is one past the last record it can read.",
    approach="Answer for every partition that has a high-water mark, also those where the group never committed. "
             "Without a commit, a group reading from 'earliest' starts at the first record still stored, which "
             "retention may have moved past offset 0.",
    skeleton="def lag(committed, log_start, end):\n    return {partition: ... for partition, high in end.items()}",
)

_EVENTS = [
    {"type": "OrderCreated", "order_id": "o1", "customer_id": "alice"},
    {"type": "OrderCreated", "order_id": "o2", "customer_id": "alice"},
    {"type": "OrderItemAdded", "order_id": "o1", "customer_id": "alice", "sku": "mug"},
    {"type": "OrderItemAdded", "order_id": "o2", "customer_id": "alice", "sku": "tee"},
    {"type": "OrderCreated", "order_id": "o3", "customer_id": "bob"},
    {"type": "OrderPaid", "order_id": "o1", "customer_id": "alice"},
    {"type": "OrderItemAdded", "order_id": "o3", "customer_id": "bob", "sku": "mug"},
    {"type": "OrderShipped", "order_id": "o1", "customer_id": "alice"},
]


@exercise("nb07.key_for", title="a record key that keeps each order in order", level="★", minutes=5,
          hints=KEY_HINTS)
def check_key_for(key_for: Callable[[dict[str, Any]], Any] | None) -> CheckResult:
    """Same order → same key; different orders → different keys."""
    if key_for is None:
        return not_attempted("write key_for(event) that returns the record key")
    if not callable(key_for):
        return wrong(f"key_for must be a function, got {type(key_for).__name__}")
    keys = [key_for(dict(event)) for event in _EVENTS]
    if any(not isinstance(k, str | bytes) for k in keys):
        return wrong(f"keys must be str (or bytes); got {keys!r}")
    by_order: dict[str, set[Any]] = {}
    for event, key in zip(_EVENTS, keys, strict=True):
        by_order.setdefault(event["order_id"], set()).add(key)
    split = [order for order, ks in by_order.items() if len(ks) > 1]
    if split:
        return wrong(f"events of order {split[0]} got different keys {sorted(map(str, by_order[split[0]]))}: they "
                     f"could land on different partitions and be processed out of order")
    distinct = {next(iter(ks)) for ks in by_order.values()}
    if len(distinct) < len(by_order):
        return wrong(f"{len(by_order)} orders share only {len(distinct)} key(s): alice's two orders are "
                     f"independent, yet one key sends them all to one partition (one consumer does all the work)")
    return solved("every order keeps one key (its events stay in order) and orders spread over partitions")


@exercise("nb07.lag", title="consumer lag per partition", level="★", minutes=8, hints=LAG_HINTS)
def check_lag(lag: Callable[[dict[int, int], dict[int, int], dict[int, int]], dict[int, int]] | None) -> CheckResult:
    """Lag per partition = high-water mark − where the group resumes (its commit, else the log start)."""
    if lag is None:
        return not_attempted("write lag(committed, log_start, end) returning {partition: lag}")
    if not callable(lag):
        return wrong(f"lag must be a function, got {type(lag).__name__}")
    cases = [
        ({0: 5, 1: 3}, {0: 0, 1: 0}, {0: 5, 1: 7}, {0: 0, 1: 4}),
        ({1: 2}, {0: 0, 1: 0, 2: 0}, {0: 4, 1: 2, 2: 9}, {0: 4, 1: 0, 2: 9}),
        ({}, {0: 0}, {0: 0}, {0: 0}),
        ({0: 8}, {0: 3, 1: 6}, {0: 10, 1: 10}, {0: 2, 1: 4}),  # retention deleted offsets 0-5 of partition 1
    ]
    for committed, log_start, end, expected in cases:
        got = lag(dict(committed), dict(log_start), dict(end))
        if got == expected:
            continue
        from_zero = {p: end[p] - committed.get(p, 0) for p in end}
        if got == from_zero:
            return wrong(f"lag({committed}, {log_start}, {end}) returned {got!r}: a partition without a commit was "
                         "counted from offset 0, but the records before the log start no longer exist")
        return wrong(f"lag({committed}, {log_start}, {end}) returned {got!r}: not the distance from where the "
                     "group resumes to the high-water mark for every partition")
    return solved("lag is the high-water mark minus where the group resumes: its commit, or the log start")


CHECKS: dict[str, Check] = {"key_for": check_key_for, "lag": check_lag}
