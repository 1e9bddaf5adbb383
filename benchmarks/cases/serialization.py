"""Envelope JSON round-trip: course_lib.messages vs. plain json.dumps/loads of the same dict (the floor)."""

from __future__ import annotations

import json

from benchmarks.runner import Case, Group, Measurement, timed
from course_lib.clock import FixedStepClock, SequentialIds
from course_lib.messages import envelope, from_json, to_dict, to_json
from course_lib.shop.events import OrderItemAdded


def _envelopes(n: int) -> list:
    clock, ids = FixedStepClock(), SequentialIds()
    return [envelope(OrderItemAdded(order_id=f"o{i}", sku="mug", quantity=1, unit_price_cents=1250),
                     clock=clock, ids=ids, stream_id=f"order-o{i}") for i in range(n)]


def _course_lib(quick: bool) -> Measurement:
    items = _envelopes(1_000 if quick else 20_000)

    def work() -> int:
        for env in items:
            from_json(to_json(env))
        return len(items)

    return timed(work)


def _raw_json(quick: bool) -> Measurement:
    dicts = [to_dict(env) for env in _envelopes(1_000 if quick else 20_000)]

    def work() -> int:
        for data in dicts:
            json.loads(json.dumps(data))
        return len(dicts)

    return timed(work)


GROUPS = [
    Group(
        name="messages.json_roundtrip",
        unit="envelopes",
        cases=[Case("course_lib", _course_lib), Case("raw json", _raw_json)],
        baseline="raw json",
        notes="course_lib validates types on the way back in; raw json does not. The ratio is the price of that.",
    )
]
