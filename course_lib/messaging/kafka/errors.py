"""Kafka errors that say what went wrong and what to do."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from course_lib.errors import CourseError, ServiceUnavailable
from course_lib.services.kafka_probe import api_keys

T = TypeVar("T")

FIX = ("start the embedded broker with `python -m course_lib services start` "
       "(or `docker compose up -d kafka`), or set COURSE_KAFKA_BOOTSTRAP_SERVERS")


class DeliveryFailed(CourseError):
    """Records the broker did not accept. Nothing is dropped silently: ``flush()`` raises this."""

    def __init__(self, failures: list[BaseException]) -> None:
        self.failures = failures
        first = failures[0]
        super().__init__(
            f"{len(failures)} record(s) were not delivered; the first failed with {type(first).__name__}: {first}. "
            f"Check that the topic exists and the broker is up, then send them again."
        )


def connect(factory: Callable[[], T], bootstrap: str) -> T:
    """Build a kafka-python client after a 2-second handshake, so a missing broker fails in seconds with the URL
    and the fix instead of a 30-second client timeout."""
    host, _, port = bootstrap.split(",")[0].strip().rpartition(":")
    if api_keys(host, int(port), timeout_s=2.0) is None:
        raise ServiceUnavailable("Kafka broker", bootstrap, "no Kafka broker answered the handshake", FIX)
    return factory()
