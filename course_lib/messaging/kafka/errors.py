"""Kafka errors that say what went wrong and what to do."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from course_lib.errors import CourseError, ServiceUnavailable
from course_lib.kafka_probe import api_keys

T = TypeVar("T")

FIX = ("start the embedded broker with `python -m course_lib services start` "
       "(or `docker compose up -d kafka`), or set COURSE_KAFKA_BOOTSTRAP_SERVERS")


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


def connect(factory: Callable[[], T], bootstrap: str) -> T:
    """Build a kafka-python client after a 2-second handshake, so a missing broker fails in seconds with the URL
    and the fix instead of a 30-second client timeout."""
    host, _, port = bootstrap.split(",")[0].strip().rpartition(":")
    if api_keys(host, int(port), timeout_s=2.0) is None:
        raise ServiceUnavailable("Kafka broker", bootstrap, "no Kafka broker answered the handshake", FIX)
    return factory()
