"""Connecting to Kafka: a quick handshake first, so a missing broker fails in seconds with the URL and the fix."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from course_lib.errors import ServiceUnavailable
from course_lib.kafka_probe import api_keys

T = TypeVar("T")

FIX = ("start the embedded broker with `python -m course_lib services start` "
       "(or `docker compose up -d kafka`), or set COURSE_KAFKA_BOOTSTRAP_SERVERS")


def connect(factory: Callable[[], T], bootstrap: str) -> T:
    """Build a kafka-python client after a 2-second handshake, so a missing broker fails in seconds with the URL
    and the fix instead of a 30-second client timeout."""
    host, _, port = bootstrap.split(",")[0].strip().rpartition(":")
    if api_keys(host, int(port), timeout_s=2.0) is None:
        raise ServiceUnavailable("Kafka broker", bootstrap, "no Kafka broker answered the handshake", FIX)
    return factory()
