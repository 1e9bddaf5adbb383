"""Property: whatever a foreign producer sends, the ``GroupWorker`` handles it or dead-letters it byte for byte.

Hypothesis generates batches of records with arbitrary keys and values (null, any bytes, envelopes that succeed
or fail) and header lists (any names, any bytes, repeated names). Each batch is sent with plain kafka-python and
followed by a canary. Then: handled + dead-lettered == sent, the canary was handled, the worker still runs, and
the new dead letters, read back with plain kafka-python, are the failed records byte for byte, in order.

Derandomized with no example database, so every run tries the same examples: CI cannot flake on a new one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from course_lib.clock import SequentialIds
from course_lib.messages import envelope, to_bytes
from course_lib.messaging.kafka import GroupWorker, Record
from course_lib.messaging.kafka.deadletter import HEADER_OFFSET
from course_lib.shop.events import OrderCreated
from course_lib.waiting import wait_until
from tests.integration.kafka.foreign_client import ForeignProducer, ForeignReader, ForeignRecord

IDS = SequentialIds()

header_lists = st.lists(st.tuples(st.one_of(st.text(min_size=1, max_size=12), st.sampled_from(
    ["message_type", "dlq.error", "dlq.original_offset"])), st.binary(max_size=40)), max_size=4)
values = st.one_of(st.none(), st.binary(max_size=300), st.sampled_from(["ok", "fail"]))
# kafka-python cannot send a record whose key and value are both null (the dead letter of one: a unit test)
records = st.lists(st.tuples(st.one_of(st.none(), st.binary(max_size=40)), values, header_lists).filter(
    lambda r: r[0] is not None or r[1] is not None), min_size=1, max_size=4)


def _order(fate: str) -> tuple[str, bytes]:
    order_id = f"{fate}-{IDS()}"
    return order_id, to_bytes(envelope(OrderCreated(order_id=order_id, customer_id="c")))


def test_whatever_arrives_is_handled_or_dead_lettered_byte_for_byte_and_the_worker_goes_on(
        kafka_bootstrap: str, make_topic: Callable[..., str], group_id: str) -> None:
    topic, dlq = make_topic("property", partitions=1), make_topic("property-dlq", partitions=1)
    handled: set[str] = set()
    lock = threading.Lock()

    def handler(record: Record) -> None:
        order_id = record.envelope().message.order_id  # type: ignore[attr-defined]
        if order_id.startswith("fail"):
            raise ValueError(f"cannot handle {order_id}")
        with lock:
            handled.add(order_id)

    producer, letters = ForeignProducer(kafka_bootstrap), ForeignReader(kafka_bootstrap, dlq)
    worker = GroupWorker(topic, group_id, handler, bootstrap=kafka_bootstrap, dead_letter_topic=dlq).start()
    worker.wait_for_assignment()

    @settings(max_examples=20, derandomize=True, database=None, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(records)
    def check(batch: list[tuple[bytes | None, bytes | str | None, list[tuple[str, bytes]]]]) -> None:
        processed, dead = worker.stats.processed, worker.stats.dead_lettered
        sent = [ForeignRecord(key, _order(value)[1] if isinstance(value, str) else value, tuple(headers))
                for key, value, headers in batch]
        failing = [record for record, (_, value, _) in zip(sent, batch, strict=True) if value != "ok"]
        canary_id, canary = _order("ok")
        producer.send(topic, [*sent, ForeignRecord(b"canary", canary)])

        def settled() -> bool:
            handled = worker.stats.processed - processed + worker.stats.dead_lettered - dead
            return handled >= len(sent) + 1 or not worker.running

        wait_until(settled, timeout=20, what=f"{len(sent) + 1} records handled or dead-lettered")
        assert worker.running, f"the worker stopped: {worker.error!r}"
        assert worker.stats.processed - processed == len(sent) - len(failing) + 1 and canary_id in handled
        assert worker.stats.dead_lettered - dead == len(failing)
        new_letters: list[Any] = letters.read(len(failing))
        assert len(new_letters) == len(failing)
        for original, letter in zip(failing, new_letters, strict=True):
            assert (letter.key, letter.value) == (original.key, original.value)
            assert tuple(letter.headers[:len(original.headers)]) == original.headers
            assert HEADER_OFFSET in dict(letter.headers[len(original.headers):])

    try:
        check()
        assert worker.running
    finally:
        worker.stop()
        producer.close()
        letters.close()
