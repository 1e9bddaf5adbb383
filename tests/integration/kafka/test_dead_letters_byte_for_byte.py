"""Kafka dead letters are the original record byte for byte, and nothing in a record stops the ``GroupWorker``.

Records come from plain kafka-python, as a foreign producer would send them; the dead-letter topic is read back
with plain kafka-python too, so what is compared is what is on the broker.
"""

from __future__ import annotations

from collections.abc import Callable

from course_lib.clock import FixedStepClock, SequentialIds
from course_lib.messages import envelope, to_bytes
from course_lib.messaging.kafka import GroupWorker, Record
from course_lib.messaging.kafka.deadletter import HEADER_ERROR, HEADER_OFFSET
from course_lib.shop.events import OrderCreated
from course_lib.waiting import wait_until
from tests.integration.kafka.foreign_client import ForeignRecord, produce_raw, read_raw

CANARY = to_bytes(envelope(OrderCreated(order_id="canary", customer_id="c"), clock=FixedStepClock(),
                           ids=SequentialIds()))


def _handle_envelopes_only(record: Record) -> None:
    record.envelope()  # raises for anything that is not an envelope: the record is dead-lettered


def _run_until_handled(worker: GroupWorker, sent: int) -> None:
    try:
        stats = worker.stats
        wait_until(lambda: stats.processed + stats.dead_lettered >= sent or not worker.running, timeout=30,
                   what=f"{sent} records handled or dead-lettered")
        assert worker.running, f"the worker stopped: {worker.error!r}"
    finally:
        worker.stop()


def test_a_dead_letter_is_the_original_record_byte_for_byte(
        kafka_bootstrap: str, make_topic: Callable[..., str], group_id: str) -> None:
    topic, dlq = make_topic("foreign", partitions=1), make_topic("foreign-dlq", partitions=1)
    hostile = [
        ForeignRecord(b"\xff\xfeorder-1", None, (("trace", b"\xc3\x28"), ("trace", b"again"), ("empty", b""))),
        ForeignRecord(None, b"\x00\x81 not json \xff", (("message_type", b"\xa0\xa1OrderCreated"),)),
        ForeignRecord(b"", b"", ()),
        ForeignRecord(b"k\x00", b"[" * 50_000, (("\u00e9t\u00e9", b"\xf0\x9f\x98"),)),
    ]
    produce_raw(kafka_bootstrap, topic, [*hostile, ForeignRecord(b"canary", CANARY)])
    worker = GroupWorker(topic, group_id, _handle_envelopes_only, bootstrap=kafka_bootstrap,
                         dead_letter_topic=dlq).start()
    _run_until_handled(worker, len(hostile) + 1)
    assert (worker.stats.processed, worker.stats.dead_lettered) == (1, len(hostile))
    letters = read_raw(kafka_bootstrap, dlq, len(hostile))
    assert len(letters) == len(hostile)
    for offset, (sent, letter) in enumerate(zip(hostile, letters, strict=True)):
        assert letter.key == sent.key and letter.value == sent.value  # a null value stays null, bytes stay bytes
        assert list(letter.headers[:len(sent.headers)]) == list(sent.headers)  # in order, repeats and all
        added = dict(letter.headers[len(sent.headers):])
        assert added[HEADER_OFFSET] == str(offset).encode() and added[HEADER_ERROR]


def test_an_error_whose_str_raises_is_dead_lettered_and_the_worker_goes_on(
        kafka_bootstrap: str, make_topic: Callable[..., str], group_id: str) -> None:
    class Unprintable(Exception):
        def __str__(self) -> str:
            raise RuntimeError("no text for you")

    def handler(record: Record) -> None:
        if record.value != CANARY:
            raise Unprintable()

    topic, dlq = make_topic("unprintable", partitions=1), make_topic("unprintable-dlq", partitions=1)
    produce_raw(kafka_bootstrap, topic, [ForeignRecord(b"bad", b"bad"), ForeignRecord(b"canary", CANARY)])
    worker = GroupWorker(topic, group_id, handler, bootstrap=kafka_bootstrap, dead_letter_topic=dlq).start()
    _run_until_handled(worker, 2)
    assert (worker.stats.processed, worker.stats.dead_lettered) == (1, 1)
    (letter,) = read_raw(kafka_bootstrap, dlq, 1)
    assert dict(letter.headers)[HEADER_ERROR] == b"<str() of this error raised RuntimeError>"


def test_a_failing_assignment_callback_does_not_stop_the_worker(
        kafka_bootstrap: str, make_topic: Callable[..., str], group_id: str) -> None:
    def on_assignment(_worker: GroupWorker, _partitions: list[int]) -> None:
        raise KeyError("a display that is gone")

    topic = make_topic("callback", partitions=1)
    produce_raw(kafka_bootstrap, topic, [ForeignRecord(b"canary", CANARY)])
    worker = GroupWorker(topic, group_id, _handle_envelopes_only, bootstrap=kafka_bootstrap,
                         on_assignment=on_assignment).start()
    _run_until_handled(worker, 1)
    assert worker.stats.processed == 1 and worker.error is None
    assert any(what == "on_assignment failed" for what, _ in worker.stats.recent)
