"""What the RabbitMQ worker reads from a delivery never raises, whatever another producer put there."""

from __future__ import annotations

import struct
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pika
import pika.connection
import pika.data
import pika.frame
import pytest

from course_lib.errors import WorkerFailed, describe_error, raise_if_failed
from course_lib.messaging.rabbitmq import attempt_number, decode, frames, x_death_count
from course_lib.messaging.rabbitmq.retry import broker_written_x_death, failure_headers

DELIVER = pika.spec.Basic.Deliver(delivery_tag=1, exchange="", routing_key="orders")


def _props(**headers: Any) -> pika.BasicProperties:
    return pika.BasicProperties(headers=headers)


@pytest.mark.parametrize("count", ["abc", b"\xff", {"n": 1}, [1], None, -3, True, Decimal("1.5"), "9" * 40])
def test_an_unreadable_retry_count_is_ignored_not_raised(count: object) -> None:
    assert attempt_number(_props(**{"x-retry-count": count}), "orders") == 1


def test_a_readable_retry_count_still_counts_also_as_text() -> None:
    assert attempt_number(_props(**{"x-retry-count": 2}), "orders") == 3
    assert attempt_number(_props(**{"x-retry-count": b"2"}), "orders") == 3


@pytest.mark.parametrize("x_death", ["garbage", [1, None], [{"count": "many", "queue": "orders.retry.50ms",
                                                            "reason": "expired"}], {"count": 1}])
def test_x_death_that_no_broker_wrote_is_skipped(x_death: object) -> None:
    assert x_death_count(_props(**{"x-death": x_death})) == 0
    assert attempt_number(_props(**{"x-death": x_death}), "orders") == 1


def test_x_death_as_the_broker_writes_it_counts() -> None:
    entry = {"count": 2, "queue": b"orders.retry.50ms", "reason": b"expired"}
    assert attempt_number(_props(**{"x-death": [entry]}), "orders") == 3


def test_a_forwarded_copy_carries_no_header_the_broker_would_act_on() -> None:
    props = _props(CC=["orders"], BCC=["audit"], **{"x-death": [{"count": Decimal("0.5")}], "tenant": b"\xff"})
    headers = failure_headers(props, error=ValueError("x"), attempt=1, queue="orders", routing_key="orders")
    assert "CC" not in headers and "BCC" not in headers and "x-death" not in headers
    assert headers["x-original-CC"] == ["orders"] and "Decimal" in headers["x-original-x-death"]
    assert headers["tenant"] == b"\xff" and headers["x-last-error"] == "ValueError: x"
    assert broker_written_x_death([{"count": 1, "queue": "q"}]) and not broker_written_x_death([{"count": "1"}])


@pytest.mark.parametrize("body", [b'{"n": ' + b"7" * 5000 + b"}", b"[" * 100_000, b"\xff\xfe\x00",
                                  b'{"metadata": {"type": 1}, "data": []}', b"null"])
def test_decode_turns_any_body_into_a_reason(body: bytes) -> None:
    delivery = decode(DELIVER, pika.BasicProperties(), body)
    assert delivery.envelope is None and delivery.error


def test_decode_keeps_routing_keys_that_are_not_utf8_printable() -> None:
    method = pika.spec.Basic.Deliver(delivery_tag=1, exchange=b"\xff", routing_key=b"\xfe.key")
    delivery = decode(method, pika.BasicProperties(), b"{}")
    assert delivery.routing_key == "\\xfe.key" and delivery.exchange == "\\xff"


def _table(name: bytes, field: bytes) -> bytes:
    entry = bytes([len(name)]) + name + field
    return struct.pack(">I", len(entry)) + entry


def test_a_timestamp_beyond_year_9999_decodes_as_seconds_instead_of_dropping_the_connection() -> None:
    far = 2**63 + 5
    decoded, _ = frames.decode_table(_table(b"sent", b"T" + struct.pack(">Q", far)), 0)
    assert decoded == {"sent": far}
    nested, _ = frames.decode_table(_table(b"n", b"F" + _table(b"at", b"T" + struct.pack(">Q", far))), 0)
    assert nested == {"n": {"at": far}}
    in_array, _ = frames.decode_table(_table(b"a", b"A" + struct.pack(">I", 9) + b"T" + struct.pack(">Q", far)), 0)
    assert in_array == {"a": [far]}
    ordinary, _ = frames.decode_table(_table(b"t", b"T" + struct.pack(">Q", 86_400)), 0)
    assert ordinary == {"t": datetime(1970, 1, 2, tzinfo=UTC)}


def _deep_table(depth: int) -> bytes:
    inner = _table(b"leaf", b"S" + struct.pack(">I", 1) + b"x")
    for _ in range(depth):
        inner = _table(b"n", b"F" + inner)
    return inner


def test_a_table_nested_deeper_than_the_recursion_limit_keeps_its_bytes() -> None:
    inner = _deep_table(3_000)
    decoded, end = frames.decode_table(inner, 0)
    assert end == len(inner)  # the frame was read to its end: the connection lives on
    level = decoded
    while isinstance(level, dict):
        level = level["n"]
    assert isinstance(level, bytes) and level.startswith(b"F") and level.endswith(b"leafS\x00\x00\x00\x01x")


def _header_frame(headers_table: bytes, **properties: Any) -> bytes:
    """A content-header frame as the broker sends it: ``properties`` encoded by pika, then ``headers_table``
    spliced in where pika puts the headers (after content type and encoding)."""
    plain = pika.BasicProperties(**properties)
    encoded = b"".join(plain.encode())
    flags = struct.unpack_from(">H", encoded, 0)[0]
    offset = 2
    for name in ("content_type", "content_encoding"):
        if getattr(plain, name) is not None:
            offset += 1 + encoded[offset]
    payload = struct.pack(">H", flags | pika.spec.BasicProperties.FLAG_HEADERS) + encoded[2:offset] + \
        headers_table + encoded[offset:]
    payload = struct.pack(">HHQ", pika.spec.BasicProperties.INDEX, 0, 42) + payload
    return struct.pack(">BHL", pika.spec.FRAME_HEADER, 3, len(payload)) + payload + bytes([pika.spec.FRAME_END])


class _Impl:
    def __init__(self, buffer: bytes) -> None:
        self._frame_buffer = buffer


def test_a_header_frame_pika_cannot_decode_is_read_by_the_course_connection_and_still_raises_in_plain_pika() -> None:
    far = 2**63 + 5
    frame = _header_frame(_table(b"sent", b"T" + struct.pack(">Q", far)), content_type="application/json",
                          message_id="m-1", priority=3, timestamp=86_400, app_id="shop")
    with pytest.raises(frames.UNDECODABLE):  # pika itself is unchanged: nothing is patched process-wide
        pika.frame.decode_frame(frame)
    assert pika.data.decode_value.__module__ == "pika.data"
    consumed, header = frames.read_frame(_Impl(frame + b"next frame"))
    assert consumed == len(frame) and header.channel_number == 3 and header.body_size == 42
    props = header.properties
    assert props.headers == {"sent": far}
    assert (props.content_type, props.message_id, props.priority, props.timestamp, props.app_id) == (
        "application/json", "m-1", 3, 86_400, "shop")


def test_frames_pika_can_decode_are_decoded_by_pika_and_others_still_raise() -> None:
    frame = _header_frame(_table(b"t", b"T" + struct.pack(">Q", 86_400)), message_id="m-2")
    assert frames.read_frame(_Impl(frame))[1].properties.headers == pika.frame.decode_frame(frame)[1].properties.headers
    deep = _header_frame(_deep_table(3_000))
    assert isinstance(frames.read_frame(_Impl(deep))[1].properties.headers["n"], dict)
    body = struct.pack(">BHL", pika.spec.FRAME_BODY, 1, 2) + b"{}" + bytes([pika.spec.FRAME_END])
    assert frames.read_frame(_Impl(body))[1].fragment == b"{}"


def test_the_tolerant_reader_is_installed_on_one_connection_object_only() -> None:
    """Pins the two pika internals ``frames`` relies on; other connections keep pika's reader."""
    assert callable(pika.connection.Connection._read_frame)

    class _Blocking:
        _impl = _Impl(b"")

    connection = frames.make_tolerant(_Blocking())  # type: ignore[arg-type]
    assert connection._impl._read_frame.func is frames.read_frame  # type: ignore[attr-defined]
    frames.make_tolerant(connection)  # twice is harmless
    assert connection._impl._read_frame.args == (connection._impl,)  # type: ignore[attr-defined]
    assert "_read_frame" not in vars(_Impl(b""))


def test_an_error_whose_str_raises_is_still_described() -> None:
    class Unprintable(Exception):
        def __str__(self) -> str:
            raise RuntimeError("no")

    assert describe_error(Unprintable()) == "Unprintable: <str() of this error raised RuntimeError>"
    assert describe_error(ValueError()) == "ValueError" and describe_error("as is") == "as is"


def test_worker_failed_chains_the_cause_and_says_what_to_do() -> None:
    cause = ConnectionError("broker went away")
    with pytest.raises(WorkerFailed) as failed:
        raise_if_failed("worker-orders", cause)
    assert failed.value.__cause__ is cause and failed.value.cause is cause
    assert "worker-orders stopped on its own: ConnectionError: broker went away" in str(failed.value)
    assert "start a new worker" in str(failed.value)
    raise_if_failed("worker-orders", None)  # nothing to report
