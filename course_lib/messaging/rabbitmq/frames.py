"""Reading header frames pika cannot decode, on the course's connections only.

RabbitMQ passes on any header a producer wrote, but pika cannot decode two of them: a timestamp beyond what
``datetime`` holds (year 10000 on) and a table or array nested deeper than Python's recursion limit. pika decodes
headers inside its frame reader, where such an exception takes the whole connection down before any consumer code
runs; the broker then redelivers the message to the next consumer, which dies the same way.

``make_tolerant(connection)`` gives one connection a frame reader that first asks pika (so every frame pika can
decode is decoded by pika, unchanged) and only when pika raises on a content-header frame decodes that frame's
headers here: such a timestamp stays an int (seconds since 1970), such a table or array stays its encoded bytes.
Nothing in pika is patched: other connections in the process (a learner's own ``pika.BlockingConnection``) behave
exactly as pika does. It relies on two pika internals, ``BlockingConnection._impl`` and ``Connection._read_frame``;
``tests/unit/test_rabbitmq_hostile_input.py`` pins both.
"""

from __future__ import annotations

import struct
from datetime import UTC, datetime
from functools import partial
from typing import Any

import pika
import pika.data
import pika.frame
import pika.spec

UNDECODABLE = (OverflowError, OSError, ValueError, RecursionError)
"""What pika's header decoding raises for the two values above."""

_FRAME_PREFIX = struct.Struct(">BHL")  # frame type, channel, payload size
_HEADER_PREFIX = struct.Struct(">HHQ")  # class id, weight, body size


def make_tolerant(connection: pika.BlockingConnection) -> pika.BlockingConnection:
    """Give ``connection`` the tolerant frame reader (idempotent); returns it."""
    impl = connection._impl
    impl._read_frame = partial(read_frame, impl)
    return connection


def read_frame(impl: Any) -> tuple[int, Any]:
    """pika's ``Connection._read_frame``, except for a header frame whose headers pika cannot decode."""
    try:
        frame: tuple[int, Any] = pika.frame.decode_frame(impl._frame_buffer)
    except UNDECODABLE:
        decoded = decode_header_frame(impl._frame_buffer)
        if decoded is None:
            raise
        return decoded
    return frame


def decode_header_frame(data: bytes) -> tuple[int, pika.frame.Header] | None:
    """(bytes consumed, the frame) for a complete content-header frame of ``basic`` at the start of ``data``,
    its headers decoded tolerantly; None for any other frame."""
    frame_type, channel, size = _FRAME_PREFIX.unpack_from(data, 0)
    start = _FRAME_PREFIX.size
    end = start + size + pika.spec.FRAME_END_SIZE
    if frame_type != pika.spec.FRAME_HEADER or len(data) < end:
        return None
    class_id, _weight, body_size = _HEADER_PREFIX.unpack_from(data, start)
    if class_id != pika.spec.BasicProperties.INDEX:
        return None
    encoded = bytes(data[start + _HEADER_PREFIX.size:end - pika.spec.FRAME_END_SIZE])
    return end, pika.frame.Header(channel, body_size, decode_properties(encoded))


def decode_properties(encoded: bytes) -> pika.BasicProperties:
    """``BasicProperties`` from their encoding: pika decodes all but the headers table, which is decoded here."""
    flags = struct.unpack_from(">H", encoded, 0)[0]  # basic has 14 properties: one flag word, no continuation
    offset = 2
    if not flags & pika.spec.BasicProperties.FLAG_HEADERS:
        properties = pika.BasicProperties()
        properties.decode(encoded)
        return properties
    for flag in (pika.spec.BasicProperties.FLAG_CONTENT_TYPE, pika.spec.BasicProperties.FLAG_CONTENT_ENCODING):
        if flags & flag:  # a short string before the headers: skip it
            offset += 1 + encoded[offset]
    table_end = offset + 4 + struct.unpack_from(">I", encoded, offset)[0]
    without = struct.pack(">H", flags & ~pika.spec.BasicProperties.FLAG_HEADERS) + encoded[2:offset] + \
        encoded[table_end:]
    properties = pika.BasicProperties()
    properties.decode(without)
    properties.headers, _ = decode_table(encoded, offset)
    return properties


def decode_table(encoded: bytes, offset: int) -> tuple[dict[str, Any], int]:
    """An AMQP field table, as ``pika.data.decode_table`` but tolerant (see the module docstring)."""
    end = offset + 4 + struct.unpack_from(">I", encoded, offset)[0]
    offset += 4
    table: dict[str, Any] = {}
    while offset < end:
        key, offset = pika.data.decode_short_string(encoded, offset)
        table[key], offset = decode_value(encoded, offset)  # type: ignore[index]
    return table, offset


def decode_value(encoded: bytes, offset: int) -> tuple[Any, int]:
    """One field value: containers and timestamps here, every other type by pika."""
    kind = encoded[offset:offset + 1]
    if kind == b"T":
        seconds = struct.unpack_from(">Q", encoded, offset + 1)[0]
        try:
            return datetime.fromtimestamp(seconds, UTC), offset + 9
        except (OverflowError, OSError, ValueError):
            return seconds, offset + 9
    if kind in (b"F", b"A"):
        end = offset + 5 + struct.unpack_from(">I", encoded, offset + 1)[0]
        try:
            if kind == b"F":
                return decode_table(encoded, offset + 1)
            return _decode_array(encoded, offset + 5, end), end
        except RecursionError:  # the size is known up front: skip the value, keep its bytes
            return bytes(encoded[offset:end]), end
    scalar: tuple[Any, int] = pika.data.decode_value(encoded, offset)
    return scalar


def _decode_array(encoded: bytes, offset: int, end: int) -> list[Any]:
    values = []
    while offset < end:
        value, offset = decode_value(encoded, offset)
        values.append(value)
    return values
