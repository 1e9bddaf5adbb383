"""Publishing the way a producer that knows nothing of course_lib would: raw pika, any properties and headers.

pika refuses to encode a few field values that other clients (and RabbitMQ) accept, e.g. a timestamp far beyond
the year 9999. ``RawField`` carries such a value pre-encoded (type octet + payload) past pika's encoder.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pika
import pika.data
from pika.adapters.blocking_connection import BlockingChannel

from course_lib.messaging.rabbitmq import RabbitConnection


@dataclass(frozen=True)
class RawField:
    """A header value written to the wire exactly as ``encoded`` (e.g. ``b"T" + 8 bytes``)."""

    encoded: bytes

    @classmethod
    def timestamp(cls, seconds: int) -> RawField:
        return cls(b"T" + struct.pack(">Q", seconds))

    @classmethod
    def nested_table(cls, depth: int) -> RawField:
        """``{"n": {"n": … {"leaf": "x"}}}``, ``depth`` tables deep (deeper than pika can encode or decode)."""
        table = _table(b"leaf", b"S" + struct.pack(">I", 1) + b"x")
        for _ in range(depth):
            table = _table(b"n", b"F" + table)
        return cls(b"F" + table)


def _table(name: bytes, field: bytes) -> bytes:
    entry = bytes([len(name)]) + name + field
    return struct.pack(">I", len(entry)) + entry


@contextmanager
def raw_fields_allowed() -> Iterator[None]:
    """Let pika's encoder write ``RawField`` values verbatim while the block runs."""
    original = pika.data.encode_value

    def encode(pieces: list[bytes], value: Any) -> int:
        if isinstance(value, RawField):
            pieces.append(value.encoded)
            return len(value.encoded)
        return int(original(pieces, value))

    pika.data.encode_value = encode
    try:
        yield
    finally:
        pika.data.encode_value = original


@contextmanager
def foreign_channel(conn: RabbitConnection) -> Iterator[BlockingChannel]:
    """A channel with publisher confirms on which ``RawField`` values may be published; closed afterwards."""
    channel = conn.channel()
    try:
        channel.confirm_delivery()
        with raw_fields_allowed():
            yield channel
    finally:
        if channel.is_open:
            channel.close()


def publish_raw(conn: RabbitConnection, queue: str, body: bytes, properties: pika.BasicProperties) -> None:
    """Publish to ``queue`` through the default exchange, confirmed, as a foreign producer would."""
    with foreign_channel(conn) as channel:
        channel.basic_publish("", queue, body, properties, mandatory=True)
