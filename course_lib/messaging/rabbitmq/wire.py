"""Envelopes on the wire: AMQP properties carry the ids, the body is the envelope's JSON.

The AMQP basic properties have slots for ``message_id``, ``type``, ``correlation_id`` and ``timestamp``; the
causation id has no slot, so it travels as the ``x-causation-id`` header. Tools that know nothing of our JSON
(the management UI, a shovel, a tracing proxy) can still see which message caused which.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pika
from pika.spec import Basic

from course_lib.messages import Envelope, MalformedMessage, Message, Registry, UnknownMessageType, from_json, registry

CONTENT_TYPE = "application/json"
PERSISTENT = pika.DeliveryMode.Persistent.value


def properties_for(env: Envelope[Any], headers: dict[str, Any] | None = None) -> pika.BasicProperties:
    """Persistent JSON properties carrying the envelope's ids (message, correlation, causation) and type."""
    meta = env.metadata
    all_headers: dict[str, Any] = {"x-schema-version": meta.schema_version}
    if meta.causation_id is not None:
        all_headers["x-causation-id"] = str(meta.causation_id)
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
    def message(self) -> Message:
        """The domain message; raises ``MalformedMessage`` for a message that could not be decoded."""
        if self.envelope is None:
            raise MalformedMessage(self.error or "not decoded")
        message: Message = self.envelope.message
        return message


def decode(
    method: Basic.Deliver | Basic.GetOk, properties: pika.BasicProperties, body: bytes, reg: Registry = registry
) -> Delivery:
    """Turn a raw delivery into a ``Delivery``; malformed bodies get ``envelope=None`` and the reason in ``error``."""
    envelope: Envelope[Message] | None = None
    error: str | None = None
    try:
        envelope = from_json(body, reg)
    except (MalformedMessage, UnknownMessageType) as exc:
        error = f"{type(exc).__name__}: {exc}"
    return Delivery(
        body=body, properties=properties, routing_key=method.routing_key or "", exchange=method.exchange or "",
        redelivered=bool(method.redelivered), delivery_tag=int(method.delivery_tag or 0),
        envelope=envelope, error=error,
    )


def raw_delivery(method: Basic.Deliver | Basic.GetOk, properties: pika.BasicProperties, body: bytes) -> Delivery:
    """A ``Delivery`` without parsing the body (``envelope`` and ``error`` stay ``None``)."""
    return Delivery(
        body=body, properties=properties, routing_key=method.routing_key or "", exchange=method.exchange or "",
        redelivered=bool(method.redelivered), delivery_tag=int(method.delivery_tag or 0), envelope=None,
    )


def x_death_count(properties: pika.BasicProperties, *, reason: str | None = None, queue_prefix: str = "") -> int:
    """How often the broker dead-lettered this message, summed over the ``x-death`` entries that match."""
    total = 0
    for entry in (properties.headers or {}).get("x-death", []) or []:
        queue = entry.get("queue", b"")
        queue = queue.decode() if isinstance(queue, bytes) else str(queue)
        why = entry.get("reason", b"")
        why = why.decode() if isinstance(why, bytes) else str(why)
        if (reason is None or why == reason) and queue.startswith(queue_prefix):
            total += int(entry.get("count", 1))
    return total


def body_preview(body: bytes, limit: int = 80) -> str:
    """A short printable view of a body, for logs and widgets."""
    try:
        text = json.dumps(json.loads(body))
    except (ValueError, UnicodeDecodeError):
        text = repr(body)
    return text if len(text) <= limit else text[: limit - 1] + "…"
