"""Kafka errors that say what went wrong and what to do."""

from __future__ import annotations

from dataclasses import dataclass

from course_lib.errors import CourseError
from course_lib.messaging.errors import DestinationNotFound


@dataclass(frozen=True)
class FailedRecord:
    """One record the broker did not acknowledge: where it was going, its key, and the error."""

    topic: str
    key: bytes | None
    error: BaseException


class DeliveryFailed(CourseError):
    """Records the broker did not accept. Nothing is dropped silently: ``flush()`` raises this.

    ``records`` names each failed record (topic, key, error) so a caller can send just those again;
    ``failures`` is their errors alone.
    """

    def __init__(self, records: list[FailedRecord], text: str | None = None) -> None:
        self.records = records
        self.failures = [r.error for r in records]
        if text is None:
            first = records[0].error
            text = (f"{len(records)} record(s) were not delivered; the first failed with {type(first).__name__}: "
                    f"{first}. Check that the topic exists and the broker is up, then send them again "
                    "(`error.records` names each one).")
        super().__init__(text)


class TopicNotFound(DestinationNotFound):
    """A topic that does not exist (the Kafka twin of RabbitMQ's ``QueueNotFound``)."""

    def __init__(self, topic: str) -> None:
        self.topic = topic
        super().__init__(f"topic {topic!r} does not exist: create it with Topics.create({topic!r}, partitions=N)")
