"""Dead letters: a record that cannot be processed goes to a side topic with the reason, never silently away.

The dead letter is the original record byte for byte — key and value (a null stays null), every header in order
(repeated names too, whatever the bytes) and its timestamp — plus ``dlq.*`` headers saying where it came from
and why it failed, so an operator can read it, fix the cause and replay it to the original topic.
"""

from __future__ import annotations

import json

from course_lib.errors import error_message
from course_lib.messaging.kafka.producer import Producer
from course_lib.messaging.kafka.records import Record, encode_headers

HEADER_ERROR = "dlq.error"
HEADER_ERROR_TYPE = "dlq.error_type"
HEADER_TOPIC = "dlq.original_topic"
HEADER_PARTITION = "dlq.original_partition"
HEADER_OFFSET = "dlq.original_offset"
HEADER_NULL_HEADERS = "dlq.null_header_values"
"""kafka-python cannot send a header whose value is null; such headers travel as ``b""``, their names listed here."""
HEADER_NULL_KEY = "dlq.null_key"
"""Nor a record whose key and value are both null; its key travels as ``b""``, and this header says it was null."""


def failure_headers(record: Record, error: BaseException) -> dict[str, str]:
    """What a dead letter adds to the original headers: the error and the record's topic/partition/offset."""
    return {
        HEADER_ERROR: error_message(error)[:1000],
        HEADER_ERROR_TYPE: type(error).__name__,
        HEADER_TOPIC: record.topic,
        HEADER_PARTITION: str(record.partition),
        HEADER_OFFSET: str(record.offset),
    }


def dead_letter_headers(record: Record, error: BaseException) -> dict[str, str]:
    """The original headers (as text) plus the error and the record's original topic/partition/offset."""
    return {**record.headers, **failure_headers(record, error)}


def send_to_dead_letter(producer: Producer, topic: str, record: Record, error: BaseException) -> None:
    """Send ``record`` to ``topic`` with the reason, and wait for the broker to accept it (raises if it does not):
    the caller commits the original offset only after this returns."""
    original = record.original()
    added = failure_headers(record, error)
    nulls = [name for name, value in original.headers if value is None]
    if nulls:
        added[HEADER_NULL_HEADERS] = json.dumps(nulls)
    key = original.key
    if key is None and original.value is None:
        key, added[HEADER_NULL_KEY] = b"", "true"
    headers = [(name, b"" if value is None else value) for name, value in original.headers]
    producer.send_raw(topic, original.value, key=key, headers=headers + encode_headers(added),
                      timestamp_ms=record.timestamp_ms or None)
    producer.flush()
