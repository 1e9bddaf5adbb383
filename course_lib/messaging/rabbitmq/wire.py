"""Envelopes on the wire: AMQP properties carry the ids, the body is the envelope's JSON.

The AMQP basic properties have slots for ``message_id``, ``type``, ``correlation_id`` and ``timestamp``; the
causation id and the schema version have none, so they travel as the ``x-causation-id`` and ``x-schema-version``
headers, the names Kafka records use too (``course_lib.messaging.headers``). Tools that know nothing of our JSON
(the management UI, a shovel, a tracing proxy) can still see which message caused which.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pika
from pika.spec import Basic

from course_lib.errors import describe_error
from course_lib.messages import Envelope, MalformedMessage, Message, Registry, from_json, registry
from course_lib.messaging import headers as shared
from course_lib.messaging.headers import trace_headers

CONTENT_TYPE = "application/json"
PERSISTENT = pika.DeliveryMode.Persistent.value


def properties_for(env: Envelope[Any], headers: dict[str, Any] | None = None) -> pika.BasicProperties:
    """Persistent JSON properties carrying the envelope's ids (message, correlation, causation) and type."""
    meta = env.metadata
    all_headers: dict[str, Any] = trace_headers(env)
    if headers:
        all_headers.update(headers)
    return pika.BasicProperties(
        content_type=CONTENT_TYPE,
        delivery_mode=PERSISTENT,
        message_id=str(meta.message_id),
        type=meta.type,
        correlation_id=str(meta.correlation_id),
        timestamp=int(meta.occurred_at.timestamp()),
        headers=all_headers,
    )


@dataclass(frozen=True)
class Delivery:
    """One received message: the decoded envelope (or why it could not be decoded) and its AMQP details."""

    body: bytes
    properties: pika.BasicProperties
    routing_key: str
    exchange: str
    redelivered: bool
    delivery_tag: int
    envelope: Envelope[Any] | None
    error: str | None = None

    @property
    def headers(self) -> dict[str, Any]:
        """The AMQP headers (empty dict when there are none)."""
        return dict(self.properties.headers or {})

    @property
    def causation_id(self) -> str | None:
        """The ``x-causation-id`` header (as on a Kafka ``Record``); None when absent or not text."""
        value = shared.causation_id(self.headers)
        return value if isinstance(value, str) else None

    @property
    def schema_version(self) -> int | None:
        """The ``x-schema-version`` header (as on a Kafka ``Record``); None when absent or not an int."""
        value = self.headers.get(shared.SCHEMA_VERSION)
        return value if type(value) is int else None

    @property
    def message(self) -> Message:
        """The domain message; raises ``MalformedMessage`` for a message that could not be decoded."""
        if self.envelope is None:
            raise MalformedMessage(self.error or "not decoded")
        message: Message = self.envelope.message
        return message


def decode(
    method: Basic.Deliver | Basic.GetOk, properties: pika.BasicProperties, body: bytes, reg: Registry = registry
) -> Delivery:
    """Turn a raw delivery into a ``Delivery``; malformed bodies get ``envelope=None`` and the reason in ``error``.

    Never raises for what is in the body: besides ``MalformedMessage`` and ``UnknownMessageType``, a foreign body can
    make the JSON parser or an upcaster raise anything (``RecursionError`` for deep nesting, ``ValueError`` for an
    integer of 5000 digits); each becomes the reason the message is dead-lettered.
    """
    envelope: Envelope[Message] | None = None
    error: str | None = None
    try:
        envelope = from_json(body, reg)
    except Exception as exc:  # whatever the body makes the parser raise is a reason, not a crash
        error = describe_error(exc)
    return Delivery(
        body=body, properties=properties, routing_key=_text(method.routing_key), exchange=_text(method.exchange),
        redelivered=bool(method.redelivered), delivery_tag=int(method.delivery_tag or 0),
        envelope=envelope, error=error,
    )


def _text(value: str | bytes | None) -> str:
    """pika hands over a short string that is not UTF-8 as ``bytes``; keep such names printable."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    return value or ""


def raw_delivery(method: Basic.Deliver | Basic.GetOk, properties: pika.BasicProperties, body: bytes) -> Delivery:
    """A ``Delivery`` without parsing the body (``envelope`` and ``error`` stay ``None``)."""
    return Delivery(
        body=body, properties=properties, routing_key=_text(method.routing_key), exchange=_text(method.exchange),
        redelivered=bool(method.redelivered), delivery_tag=int(method.delivery_tag or 0), envelope=None,
    )


def header_count(value: object) -> int | None:
    """A count from a header as another producer may have written it (int, ``"3"``, ``b"3"``); None if it is not
    a non-negative integer. Headers are foreign input: a count that cannot be read is ignored, never a crash."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, bytes | str):
        text = value.decode("ascii", "replace") if isinstance(value, bytes) else value
        text = text.strip()
        return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None
    return None


def x_death_count(properties: pika.BasicProperties, *, reason: str | None = None, queue_prefix: str = "") -> int:
    """How often the broker dead-lettered this message, summed over the ``x-death`` entries that match.

    Any producer can set ``x-death`` itself; entries that are not tables, and counts that are not integers, are
    skipped instead of trusted.
    """
    headers = properties.headers if isinstance(properties.headers, dict) else {}
    entries = headers.get("x-death")
    total = 0
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        queue, why = _text(entry.get("queue", b"")), _text(entry.get("reason", b""))
        count = header_count(entry.get("count", 1))
        if count is not None and (reason is None or why == reason) and queue.startswith(queue_prefix):
            total += count
    return total


def safe_repr(value: object, limit: int = 1000) -> str:
    """``repr(value)`` cut to ``limit`` characters, also for a value nested too deeply to print."""
    try:
        return repr(value)[:limit]
    except RecursionError:
        return f"<{type(value).__name__} nested too deeply to show>"
