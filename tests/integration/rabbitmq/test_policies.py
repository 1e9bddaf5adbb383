"""Policies change a live queue's limits, dead-lettering and TTL; a redeclaration with new arguments is refused."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from course_lib.messages import envelope
from course_lib.messaging.rabbitmq import (
    Policy,
    Publisher,
    Queue,
    RabbitConnection,
    Topology,
    TopologyMismatch,
    broker_version,
    clear_policy,
    declare,
    passive_depth,
    set_policy,
)
from course_lib.shop.events import OrderCreated
from course_lib.waiting import wait_until

pytestmark = pytest.mark.rabbitmq


@pytest.fixture
def policies() -> Iterator[Callable[[Policy], Policy]]:
    """``applied(policy)`` sets it now and clears it after the test."""
    names: list[str] = []

    def apply(policy: Policy) -> Policy:
        names.append(policy.name)
        set_policy(policy)
        return policy

    yield apply
    for name in names:
        clear_policy(name)


def _publish(conn: RabbitConnection, queue: str, count: int) -> None:
    publisher = Publisher(conn)
    for n in range(count):
        publisher.publish(envelope(OrderCreated(order_id=f"o{n}", customer_id="c")), queue)


@pytest.mark.parametrize("kind", ["classic", "quorum"])
def test_a_length_policy_dead_letters_the_overflow_of_a_live_queue_instead_of_a_redeclare(
        kind: str, conn: RabbitConnection, declared: Callable[[Topology], Topology],
        policies: Callable[[Policy], Policy], unique_name: Callable[[str], str]) -> None:
    queue, overflow = unique_name("held"), unique_name("overflow")
    declared(Topology(queues=[Queue(queue, kind), Queue(overflow)]))  # type: ignore[arg-type]
    _publish(conn, queue, 5)
    with pytest.raises(TopologyMismatch, match="set a policy"):
        declare(conn, Topology(queues=[Queue(queue, kind, message_ttl=60)]))  # type: ignore[arg-type]

    policies(Policy.for_queue(queue, {"max-length": 3, "dead-letter-exchange": "",
                                      "dead-letter-routing-key": overflow}, name=unique_name("limit")))
    wait_until(lambda: passive_depth(conn, overflow).ready == 2, timeout=10, what="the two oldest to be moved")
    assert passive_depth(conn, queue).ready == 3  # the same queue, changed in place: nothing lost


def test_a_ttl_policy_expires_new_messages_into_the_dead_letter_target(
        conn: RabbitConnection, declared: Callable[[Topology], Topology],
        policies: Callable[[Policy], Policy], unique_name: Callable[[str], str]) -> None:
    queue, expired = unique_name("ttl"), unique_name("expired")
    declared(Topology(queues=[Queue(queue), Queue(expired)]))
    policies(Policy.for_queue(queue, {"message-ttl": 200, "dead-letter-exchange": "",
                                      "dead-letter-routing-key": expired}, name=unique_name("ttl")))
    _publish(conn, queue, 1)
    wait_until(lambda: passive_depth(conn, expired).ready == 1, timeout=10, what="the message to expire")
    assert passive_depth(conn, queue).ready == 0


def test_a_bad_policy_is_refused_with_the_reason_and_the_command_line_is_rabbitmqctl(
        unique_name: Callable[[str], str]) -> None:
    bad = Policy.for_queue(unique_name("q"), {"max-length": "many"}, name=unique_name("bad"))
    with pytest.raises(Exception, match="refused policy"):
        set_policy(bad)
    clear_policy(bad.name)  # a missing policy is fine to clear
    assert Policy.for_queue("a.b", {"max-length": 3}, name="p").rabbitmqctl() == (
        "rabbitmqctl set_policy -p / --priority 0 --apply-to queues p '^a\\.b$' '{\"max-length\": 3}'")


def test_the_broker_reports_its_version() -> None:
    version = broker_version()
    assert version[0].isdigit() and version.count(".") >= 1
