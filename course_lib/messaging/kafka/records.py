"""A consumed record as plain data, and the headers the course puts on every record.

The type, message id and correlation id travel as headers because Kafka records have no property slots for them
(RabbitMQ's AMQP properties do); causation id and schema version use the names both brokers share
(``course_lib.messaging.headers``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from course_lib.messages import Envelope, Message, Registry, from_json, registry
from course_lib.messaging import headers as shared

HEADER_TYPE = "message_type"
HEADER_MESSAGE_ID = "message_id"
HEADER_CORRELATION_ID = "correlation_id"


class WireRecord(NamedTuple):
    """Key, value and headers exactly as the broker holds them: ``None`` stays null (a tombstone value, a null key
    or header value), bytes stay bytes whatever their encoding, repeated header names stay repeated, in order."""

    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes | None], ...] = ()


@dataclass(slots=True)
class Record:
    """One Kafka record: where it sits (topic, partition, offset), its key, value, headers and timestamp.

    Not frozen on purpose: a frozen dataclass costs three times as much to build, and a consumer builds one per
    record. Treat it as read-only.

    ``key``, ``value`` and ``headers`` are the convenient view (text, ``b""`` for a tombstone, the last value of a
    repeated header); ``wire`` keeps the record as it arrived, for whoever must pass it on unchanged.
    ``registry`` is the one of the reader that consumed it: ``envelope()`` decodes (and upcasts) with it.
    """

    topic: str
    partition: int
    offset: int
    key: str | None
    value: bytes
    headers: dict[str, str] = field(default_factory=dict)
    timestamp_ms: int = 0
    wire: WireRecord | None = None
    registry: Registry | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_kafka(cls, raw: Any, reg: Registry | None = None) -> Record:
        """Convert a kafka-python ``ConsumerRecord``; ``reg`` decodes its envelope (default: the global registry)."""
        headers = {name: (data or b"").decode("utf-8", "replace") for name, data in raw.headers} if raw.headers \
            else {}
        key = raw.key.decode("utf-8", "replace") if raw.key is not None else None
        wire = WireRecord(raw.key, raw.value, tuple(raw.headers) if raw.headers else ())
        return cls(raw.topic, raw.partition, raw.offset, key, raw.value or b"", headers, raw.timestamp or 0, wire, reg)

    def original(self) -> WireRecord:
        """The record as it arrived (rebuilt from the text view for a ``Record`` made by hand)."""
        if self.wire is not None:
            return self.wire
        key = self.key.encode() if self.key is not None else None
        return WireRecord(key, self.value, tuple((name, value.encode()) for name, value in self.headers.items()))

    def envelope(self) -> Envelope[Message]:
        """The value parsed as a course envelope, upcast by the record's registry (raises ``MalformedMessage`` /
        ``UnknownMessageType``)."""
        return from_json(self.value, self.registry or registry)

    def json(self) -> Any:
        """The value parsed as plain JSON."""
        return json.loads(self.value)

    @property
    def message_type(self) -> str | None:
        return self.headers.get(HEADER_TYPE)

    @property
    def causation_id(self) -> str | None:
        """The causation header, also under the name records of earlier course versions used."""
        value: str | None = shared.causation_id(self.headers)
        return value

    @property
    def schema_version(self) -> int | None:
        """The schema-version header as an int (None when absent or not a number)."""
        text = self.headers.get(shared.SCHEMA_VERSION, "")
        return int(text) if text.isdigit() else None


def encode_headers(headers: dict[str, str]) -> list[tuple[str, bytes]]:
    """Headers as kafka-python wants them."""
    return [(name, value.encode()) for name, value in headers.items()]
