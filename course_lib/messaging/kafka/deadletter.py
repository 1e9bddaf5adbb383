"""Dead letters: a record that cannot be processed goes to a side topic with the reason, never silently away.

The dead letter keeps the original key, value and headers, and adds where it came from and why it failed, so an
operator can read it, fix the cause and replay it to the original topic.
"""

from __future__ import annotations

from course_lib.messaging.kafka.producer import Producer
from course_lib.messaging.kafka.records import Record

HEADER_ERROR = "dlq.error"
HEADER_ERROR_TYPE = "dlq.error_type"
HEADER_TOPIC = "dlq.original_topic"
HEADER_PARTITION = "dlq.original_partition"
HEADER_OFFSET = "dlq.original_offset"


def dead_letter_headers(record: Record, error: BaseException) -> dict[str, str]:
    """The original headers plus the error and the record's original topic/partition/offset."""
    return {
        **record.headers,
        HEADER_ERROR: str(error)[:1000],
        HEADER_ERROR_TYPE: type(error).__name__,
        HEADER_TOPIC: record.topic,
        HEADER_PARTITION: str(record.partition),
        HEADER_OFFSET: str(record.offset),
    }


def send_to_dead_letter(producer: Producer, topic: str, record: Record, error: BaseException) -> None:
    """Send ``record`` to ``topic`` with the reason, and wait for the broker to accept it (raises if it does not):
    the caller commits the original offset only after this returns."""
    producer.send_bytes(topic, record.value, key=record.key, headers=dead_letter_headers(record, error))
    producer.flush()
