"""Reading stored events through upcasters: old v1 rows (two upcaster steps) vs. rows already in today's schema.

Both cases decode the same number of stored envelopes with ``course_lib.messages.from_json`` and the same
registry; only the stored schema version differs. The ratio is what the upcaster chain adds to every read of an
old event — the cost that a copy-transform migration (rewriting the store once) would remove.
"""

from __future__ import annotations

import json
from typing import ClassVar

from benchmarks.runner import Case, Group, Measurement, timed
from course_lib.clock import FixedStepClock, SequentialIds
from course_lib.messages import Event, Registry, envelope, from_json, to_dict
from course_lib.versioning import add_field, rename_field


class ItemAdded(Event):
    schema_version: ClassVar[int] = 3
    order_id: str
    sku: str
    quantity: int
    unit_price_cents: int
    currency: str


def _registry() -> Registry:
    reg = Registry()
    reg.add(ItemAdded)
    reg.add_upcaster("ItemAdded", 1, add_field("currency", "EUR", to_version=2))
    reg.add_upcaster("ItemAdded", 2, rename_field("qty", "quantity", to_version=3))
    return reg


def _stored(n: int, *, old: bool) -> list[str]:
    clock, ids = FixedStepClock(), SequentialIds()
    rows = []
    for i in range(n):
        data = to_dict(envelope(ItemAdded(order_id=f"o{i}", sku="mug", quantity=2, unit_price_cents=900,
                                          currency="EUR"), clock=clock, ids=ids))
        if old:  # what the 2024 release wrote: qty, no currency, schema v1
            data["metadata"]["schema_version"] = 1
            payload = data["data"]
            payload["qty"] = payload.pop("quantity")
            del payload["currency"]
        rows.append(json.dumps(data))
    return rows


def _reader(old: bool) -> Case:
    def run(quick: bool) -> Measurement:
        reg, rows = _registry(), _stored(1_000 if quick else 20_000, old=old)

        def work() -> int:
            for text in rows:
                from_json(text, reg)
            return len(rows)

        return timed(work)

    return Case("v1 rows, 2 upcasts" if old else "current rows", run)


GROUPS = [
    Group(
        name="versioning.read_with_upcasters",
        unit="events",
        cases=[_reader(old=True), _reader(old=False)],
        baseline="current rows",
        subject="v1 rows, 2 upcasts",
        notes="Same envelopes and registry; only the stored schema version differs.",
    )
]
