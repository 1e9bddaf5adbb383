from __future__ import annotations

import pytest
from pydantic import ValidationError

from course_lib.clock import FixedStepClock, SequentialIds
from course_lib.messages import (
    MalformedMessage,
    Registry,
    UnknownMessageType,
    envelope,
    from_json,
    routing_key,
    to_json,
)
from course_lib.shop.events import ALL_EVENTS, SAMPLES, OrderItemAdded, OrderSubmitted


@pytest.mark.parametrize("cls", ALL_EVENTS, ids=lambda c: c.__name__)
def test_every_shop_event_round_trips_exactly(cls: type) -> None:
    env = envelope(cls(**SAMPLES[cls.__name__]), clock=FixedStepClock(), ids=SequentialIds(), stream_id="s-1")
    assert from_json(to_json(env)) == env


def test_events_are_frozen() -> None:
    event = OrderSubmitted(order_id="o1", total_cents=100)
    with pytest.raises(ValidationError, match="frozen"):
        event.total_cents = 0  # type: ignore[misc]


def test_caused_message_keeps_correlation_and_points_at_its_cause() -> None:
    ids = SequentialIds()
    first = envelope(OrderSubmitted(order_id="o1", total_cents=1), ids=ids)
    second = first.caused(OrderSubmitted(order_id="o1", total_cents=1), ids=ids)
    assert first.metadata.correlation_id == first.message_id
    assert second.metadata.correlation_id == first.message_id
    assert second.metadata.causation_id == first.message_id
    assert second.message_id != first.message_id


def test_unknown_type_names_type_and_registry() -> None:
    env = envelope(OrderSubmitted(order_id="o1", total_cents=1))
    with pytest.raises(UnknownMessageType, match=r"'OrderSubmitted'.*registry knows \[\]"):
        from_json(to_json(env), Registry())


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b'{"data": {}}', b'{"metadata": {"type": 1}}'])
def test_malformed_input_is_a_malformed_message(raw: bytes) -> None:
    with pytest.raises(MalformedMessage):
        from_json(raw)


def test_invalid_payload_is_malformed_not_a_crash() -> None:
    text = to_json(envelope(OrderItemAdded(order_id="o", sku="s", quantity=1, unit_price_cents=1)))
    with pytest.raises(MalformedMessage, match="OrderItemAdded payload failed validation"):
        from_json(text.replace('"quantity":1', '"quantity":-3'))


def test_routing_keys_are_dotted_lowercase() -> None:
    assert routing_key(OrderItemAdded) == "order.item.added"
    assert routing_key("OrderCreated") == "order.created"
