"""A consumed record as plain data, and the headers the course puts on every record."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from course_lib.messages import Envelope, Message, from_json

HEADER_TYPE = "message_type"
HEADER_MESSAGE_ID = "message_id"
HEADER_CORRELATION_ID = "correlation_id"
HEADER_CAUSATION_ID = "causation_id"


@dataclass(slots=True)
class Record:
    """One Kafka record: where it sits (topic, partition, offset), its key, value, headers and timestamp.

    Not frozen on purpose: a frozen dataclass costs three times as much to build, and a consumer builds one per
    record. Treat it as read-only.
    """

    topic: str
    partition: int
    offset: int
    key: str | None
    value: bytes
    headers: dict[str, str] = field(default_factory=dict)
    timestamp_ms: int = 0

    @classmethod
    def from_kafka(cls, raw: Any) -> Record:
        """Convert a kafka-python ``ConsumerRecord``."""
        headers = {name: (data or b"").decode("utf-8", "replace") for name, data in raw.headers} if raw.headers \
            else {}
        key = raw.key.decode("utf-8", "replace") if raw.key is not None else None
        return cls(raw.topic, raw.partition, raw.offset, key, raw.value or b"", headers, raw.timestamp or 0)

    def envelope(self) -> Envelope[Message]:
        """The value parsed as a course envelope (raises ``MalformedMessage`` / ``UnknownMessageType``)."""
        return from_json(self.value)

    def json(self) -> Any:
        """The value parsed as plain JSON."""
        return json.loads(self.value)

    @property
    def message_type(self) -> str | None:
        return self.headers.get(HEADER_TYPE)


def encode_headers(headers: dict[str, str]) -> list[tuple[str, bytes]]:
    """Headers as kafka-python wants them."""
    return [(name, value.encode()) for name, value in headers.items()]
