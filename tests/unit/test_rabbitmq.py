"""RabbitMQ pieces that need no broker: topic matching, topology descriptions, retry policy, wire format, checks."""

from __future__ import annotations

import time
from typing import Any

import pika
import pytest

from course_lib.errors import ServiceUnavailable
from course_lib.exercises import nb05, nb06
from course_lib.messages import envelope, routing_key, to_bytes
from course_lib.messaging.rabbitmq import (
    Binding,
    Exchange,
    Queue,
    RetryPolicy,
    Topology,
    attempt_number,
    connect,
    properties_for,
    retry_topology,
    topic_matches,
    x_death_count,
)
from course_lib.messaging.rabbitmq.wire import decode
from course_lib.shop.events import ALL_EVENTS, OrderCreated, OrderPaid
from solutions import nb05 as solution05
from solutions import nb06 as solution06


@pytest.mark.parametrize(("pattern", "key", "expected"), [
    ("order.created", "order.created", True),
    ("order.*", "order.created", True),
    ("order.*", "order.item.added", False),
    ("order.#", "order.item.added", True),
    ("order.#", "order", True),
    ("#", "anything.at.all", True),
    ("#", "", True),
    ("*.cancelled", "order.cancelled", True),
    ("*.item.*", "order.item.removed", True),
    ("order.#.added", "order.added", True),
    ("order.#.added", "order.item.added", True),
    ("order.#.added", "order.item.removed", False),
    ("order.*", "order", False),
    ("*", "", False),
])
def test_topic_matching_follows_the_amqp_rules(pattern: str, key: str, expected: bool) -> None:
    assert topic_matches(pattern, key) is expected


def test_routing_keys_of_the_shop_make_star_and_hash_differ() -> None:
    keys = [routing_key(e) for e in ALL_EVENTS]
    star = {k for k in keys if topic_matches("order.*", k)}
    hash_ = {k for k in keys if topic_matches("order.#", k)}
    assert star < hash_ and hash_ - star == {"order.item.added", "order.item.removed"}


def test_topology_predicts_routes_per_exchange_type() -> None:
    topology = Topology(
        [Exchange("shop", "topic"), Exchange("fan", "fanout"), Exchange("d", "direct"), Exchange("h", "headers")],
        [Queue("a"), Queue("b")],
        [Binding("shop", "a", "order.*"), Binding("shop", "b", "order.#"), Binding("fan", "a"),
         Binding("fan", "b"), Binding("d", "a", "order.paid"),
         Binding("h", "a", arguments={"x-match": "all", "channel": "email", "lang": "en"}),
         Binding("h", "b", arguments={"x-match": "any", "channel": "email", "lang": "en"})],
    )
    assert topology.route("shop", "order.item.added") == {"b"}
    assert topology.route("shop", "order.paid") == {"a", "b"}
    assert topology.route("fan", "whatever") == {"a", "b"}
    assert topology.route("d", "order.paid") == {"a"} and topology.route("d", "order.created") == set()
    assert topology.route("h", "", {"channel": "email"}) == {"b"}
    assert topology.route("h", "", {"channel": "email", "lang": "en"}) == {"a", "b"}
    diagram = topology.mermaid()
    assert diagram.startswith("flowchart LR") and '"order.*"' in diagram and diagram.count("-->") == 7


def test_queue_arguments_and_rules() -> None:
    delay = Queue("d", message_ttl=1.5, dead_letter_exchange="", dead_letter_routing_key="work")
    assert delay.declare_arguments() == {"x-message-ttl": 1500, "x-dead-letter-exchange": "",
                                         "x-dead-letter-routing-key": "work"}
    assert Queue("q", "quorum", delivery_limit=3).declare_arguments() == {"x-queue-type": "quorum",
                                                                          "x-delivery-limit": 3}
    with pytest.raises(ValueError, match="quorum"):
        Queue("q", "classic", delivery_limit=3)


def test_retry_topology_never_declares_a_transient_shared_queue() -> None:
    policy = RetryPolicy.exponential(1.0, 5.0, 3)
    assert policy.delays == (1.0, 5.0, 25.0) and policy.max_attempts == 4
    topology = retry_topology("work", policy)
    names = [q.name for q in topology.queues]
    assert names == ["work", "work.dlq", "work.retry.1000ms", "work.retry.5000ms", "work.retry.25000ms"]
    assert all(q.kind in {"classic", "quorum"} for q in topology.queues)  # both durable
    assert policy.next_queue("work", 1) == "work.retry.1000ms"
    assert policy.next_queue("work", 3) == "work.retry.25000ms"
    assert policy.next_queue("work", 4) is None


def _props(headers: dict[str, Any]) -> pika.BasicProperties:
    return pika.BasicProperties(headers=headers)


def test_attempt_number_comes_from_x_death_or_our_header() -> None:
    assert attempt_number(_props({}), "work") == 1
    x_death = [{"queue": b"work.retry.1000ms", "reason": b"expired", "count": 1},
               {"queue": "work.retry.5000ms", "reason": "expired", "count": 1},
               {"queue": "other", "reason": "rejected", "count": 4}]
    assert x_death_count(_props({"x-death": x_death})) == 6
    assert attempt_number(_props({"x-death": x_death}), "work") == 3
    # RabbitMQ 4.x does not carry client-copied x-death forward: our own counter still knows
    assert attempt_number(_props({"x-death": x_death[:1], "x-retry-count": 2}), "work") == 3


def test_envelope_ids_go_into_amqp_properties() -> None:
    first = envelope(OrderCreated(order_id="o", customer_id="c"))
    second = first.caused(OrderPaid(order_id="o", amount_cents=1, payment_id="p"))
    props = properties_for(second, {"tenant": "t1"})
    assert props.message_id == str(second.message_id) and props.type == "OrderPaid"
    assert props.correlation_id == str(first.message_id) and props.headers["x-causation-id"] == str(first.message_id)
    assert props.delivery_mode == 2 and props.headers["tenant"] == "t1"


def test_decode_keeps_malformed_messages_with_their_reason() -> None:
    method = pika.spec.Basic.Deliver(delivery_tag=7, redelivered=True, exchange="shop", routing_key="order.created")
    good = envelope(OrderCreated(order_id="o", customer_id="c"))
    ok = decode(method, pika.BasicProperties(), to_bytes(good))
    assert ok.envelope == good and ok.redelivered and ok.delivery_tag == 7 and ok.error is None
    bad = decode(method, pika.BasicProperties(), b"\xff not json")
    assert bad.envelope is None and bad.error is not None and bad.error.startswith("MalformedMessage")
    unknown = decode(method, pika.BasicProperties(), to_bytes(good.with_metadata(type="Nope")))
    assert unknown.error is not None and unknown.error.startswith("UnknownMessageType")


def test_connecting_to_a_closed_port_fails_fast_with_the_fix() -> None:
    started = time.monotonic()
    with pytest.raises(ServiceUnavailable) as info:
        connect("amqp://guest:secret@127.0.0.1:9/%2F", timeout=1)
    assert time.monotonic() - started < 5
    assert "127.0.0.1:9" in str(info.value) and "secret" not in str(info.value)
    assert "services start" in str(info.value)


# ---- exercise checks -------------------------------------------------------------------------------------------
def test_nb05_check_accepts_the_solution_and_rejects_wrong_answers() -> None:
    check = nb05.CHECKS["inventory_bindings"]
    placeholder = check(None)
    assert not placeholder and not placeholder.attempted and "Not solved yet" in str(placeholder)
    assert check(solution05.ANSWERS["inventory_bindings"])
    too_much = check(["order.#", "payment.declined"])
    assert not too_much and too_much.attempted and "also receives" in too_much.message
    too_little = check(["order.item.*"])
    assert not too_little and "missing" in too_little.message
    assert not check("order.#")
    assert not check(42)


class _ByOrder:
    def __init__(self) -> None:
        self.total_cents = 0
        self.seen: set[str] = set()

    def handle(self, delivery: Any) -> None:
        if delivery.message.order_id not in self.seen:
            self.seen.add(delivery.message.order_id)
            self.total_cents += delivery.message.amount_cents


class _SkipsRedelivered:
    def __init__(self) -> None:
        self.total_cents = 0

    def handle(self, delivery: Any) -> None:
        if not delivery.redelivered:
            self.total_cents += delivery.message.amount_cents


class _CountsAll:
    def __init__(self) -> None:
        self.total_cents = 0

    def handle(self, delivery: Any) -> None:
        self.total_cents += delivery.message.amount_cents


def test_nb06_check_accepts_the_solution_and_rejects_wrong_answers() -> None:
    check = nb06.CHECKS["idempotent_payments"]
    placeholder = check(None)
    assert not placeholder and not placeholder.attempted
    assert check(solution06.ANSWERS["idempotent_payments"])
    assert "skipped" in check(_ByOrder).message
    assert "skipped" in check(_SkipsRedelivered).message
    assert "duplicates" in check(_CountsAll).message
    assert not check(_CountsAll())  # an instance instead of the class


@pytest.mark.parametrize(("version", "refuses"), [("3.10.8", False), ("4.1.4", False), ("4.2.0", False),
                                                  ("4.3.0", True), ("4.3.5", True), ("5.0.1", True)])
def test_only_rabbitmq_4_3_and_later_refuse_transient_non_exclusive_queues(version: str, refuses: bool) -> None:
    from course_lib.messaging.rabbitmq import refuses_transient_nonexclusive_queues

    assert refuses_transient_nonexclusive_queues(version) is refuses
