"""Property: whatever a foreign producer publishes, the ``Worker`` handles it or dead-letters it, and goes on.

Hypothesis generates batches of messages with arbitrary bodies (bytes, JSON, envelopes that succeed or fail),
properties (short strings that are not UTF-8, any priority and timestamp) and header tables of every type pika
can write (nested tables and arrays, bytes, None, decimals, dates, 64-bit ints, hostile ``x-death`` and
``x-retry-count``), plus what pika itself cannot write: timestamps past the year 9999 and tables nested
thousands deep. Each batch is published with
raw pika and followed by a canary. Then: handled + dead-lettered == sent, the canary was handled, the worker still
runs, and the dead-letter queue holds exactly the dead-lettered messages, each with its reason.

Derandomized with no example database, so every run tries the same examples: CI cannot flake on a new one.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pika
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from course_lib.clock import SequentialIds
from course_lib.messages import envelope, to_bytes
from course_lib.messaging.rabbitmq import (
    Delivery,
    RabbitConnection,
    RetryPolicy,
    Topology,
    Worker,
    consume,
    dead_letter_queue,
    passive_depth,
    retry_topology,
)
from course_lib.shop.events import OrderCreated
from course_lib.waiting import wait_until
from tests.integration.rabbitmq.foreign_producer import RawField, foreign_channel

pytestmark = pytest.mark.rabbitmq
POLICY = RetryPolicy((0.05,))
IDS = SequentialIds()

names = st.text(min_size=1, max_size=12)
short_strings = st.one_of(st.text(max_size=24), st.binary(max_size=24))  # bytes: often not UTF-8
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1), st.text(max_size=40), st.binary(max_size=40),
    st.builds(lambda raw, places: Decimal(raw).scaleb(-places), st.integers(-(2**31), 2**31 - 1),
              st.integers(0, 9)),
    st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(9999, 12, 31)).map(
        lambda d: d.replace(tzinfo=UTC)),
    st.integers(253_402_300_800, 2**64 - 1).map(RawField.timestamp),  # beyond what a datetime holds
    st.integers(500, 2_000).map(RawField.nested_table),  # deeper than pika can decode
)
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(names, inner, max_size=3)), max_leaves=6)
x_death_entries = st.lists(st.one_of(values, st.fixed_dictionaries(
    {"count": values, "reason": st.sampled_from(["expired", "rejected", b"\xff"]),
     "queue": st.sampled_from(["{queue}.retry.50ms", "elsewhere"])})), max_size=2)
headers = st.dictionaries(
    st.one_of(names, st.sampled_from(["x-death", "x-retry-count", "x-last-error", "x-first-death-queue"])),
    values, max_size=4,
).flatmap(lambda h: st.just(h) if "x-death" not in h else x_death_entries.map(lambda d: {**h, "x-death": d}))
properties = st.fixed_dictionaries({}, optional={
    "content_type": short_strings, "content_encoding": short_strings, "message_id": short_strings,
    "correlation_id": short_strings, "type": short_strings, "app_id": short_strings, "reply_to": short_strings,
    "priority": st.integers(0, 255), "timestamp": st.integers(0, 2**64 - 1), "delivery_mode": st.sampled_from([1, 2]),
    "headers": headers,
})
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(names, inner, max_size=3)), max_leaves=8)
json_text = json_values.map(lambda v: json.dumps(v).encode())
fates = st.sampled_from(["ok", "fail"])
bodies = st.one_of(st.binary(max_size=300), json_text, fates)
messages = st.lists(st.tuples(bodies, properties), min_size=1, max_size=4)


def _resolve(value: Any, queue: str) -> Any:
    """Put the real delay-queue name into generated x-death entries (so they match, as the broker's would)."""
    if isinstance(value, str):
        return value.replace("{queue}", queue)
    if isinstance(value, list):
        return [_resolve(v, queue) for v in value]
    if isinstance(value, dict):
        return {k: _resolve(v, queue) for k, v in value.items()}
    return value


def _order(fate: str) -> tuple[str, bytes]:
    order_id = f"{fate}-{IDS()}"
    return order_id, to_bytes(envelope(OrderCreated(order_id=order_id, customer_id="c")))


def test_whatever_arrives_is_handled_or_dead_lettered_and_the_worker_goes_on(
        conn: RabbitConnection, declared: Callable[[Topology], Topology], unique_name: Callable[[str], str]) -> None:
    q = unique_name("property")
    declared(retry_topology(q, POLICY))
    handled: set[str] = set()
    lock = threading.Lock()

    def handler(delivery: Delivery) -> None:
        order_id = delivery.message.order_id  # type: ignore[attr-defined]
        if order_id.startswith("fail"):
            raise ValueError(f"cannot handle {order_id}")
        with lock:
            handled.add(order_id)

    worker = Worker(q, handler, retry=POLICY, prefetch=20).start()
    expected_dead = 0

    @settings(max_examples=25, derandomize=True, database=None, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(messages)
    def check(batch: list[tuple[bytes | str, dict[str, Any]]]) -> None:
        nonlocal expected_dead
        processed, dead = worker.stats.processed, worker.stats.dead_lettered
        bodies = [_order(body)[1] if isinstance(body, str) else body for body, _ in batch]
        ok = sum(1 for body, _ in batch if body == "ok")
        canary_id, canary = _order("ok")
        with foreign_channel(conn) as channel:
            for body, (_, props) in zip(bodies, batch, strict=True):
                channel.basic_publish("", q, body, pika.BasicProperties(**_resolve(props, q)), mandatory=True)
            channel.basic_publish("", q, canary, pika.BasicProperties(delivery_mode=2), mandatory=True)
        sent = len(batch) + 1

        def settled() -> bool:
            done = worker.stats.processed - processed + worker.stats.dead_lettered - dead
            return done >= sent or not worker.running

        wait_until(settled, timeout=20, what=f"{sent} messages handled or dead-lettered")
        assert worker.running, f"the worker stopped: {worker.error!r}"
        assert worker.stats.processed - processed == ok + 1
        assert worker.stats.dead_lettered - dead == len(batch) - ok
        assert canary_id in handled
        expected_dead += len(batch) - ok

    try:
        check()
        assert worker.running
    finally:
        worker.stop()
    parked = consume(conn, dead_letter_queue(q), max_messages=expected_dead + 5, timeout=10, idle=1.0,
                     decode_envelopes=False)
    assert len(parked) == expected_dead  # nothing dead-lettered twice, nothing lost on the way
    assert all(d.headers.get("x-last-error") for d in parked)
    assert passive_depth(conn, q).ready == 0
