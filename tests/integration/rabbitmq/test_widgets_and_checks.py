"""The notebook 05/06 widgets and the broker-backed exercise check, against the real broker."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from course_lib.exercises import nb05
from course_lib.messaging.rabbitmq import (
    Binding,
    Exchange,
    Queue,
    RabbitConnection,
    RetryPolicy,
    Topology,
    consume,
    dead_letter_queue,
    passive_depth,
    retry_topology,
)
from course_lib.waiting import wait_until
from course_lib.widgets.failure_panel import POISON, FailurePanel
from course_lib.widgets.routing_lab import RoutingLab
from solutions import nb05 as solution05

pytestmark = pytest.mark.rabbitmq


def test_nb05_check_on_the_broker(conn: RabbitConnection) -> None:
    assert nb05.check_inventory_bindings(solution05.INVENTORY_KEYS, conn=conn)
    wrong = nb05.check_inventory_bindings(["order.#"], conn=conn)
    assert not wrong and "also receives" in wrong.message


def test_routing_lab_shows_where_a_message_went(conn: RabbitConnection, declared: Callable[[Topology], Topology],
                                                unique_name: Callable[[str], str]) -> None:
    shop, one, many = unique_name("shop"), unique_name("one"), unique_name("many")
    topology = declared(Topology([Exchange(shop, "topic")], [Queue(one), Queue(many)],
                                 [Binding(shop, one, "order.*"), Binding(shop, many, "order.#")]))
    lab = RoutingLab(conn, topology)
    result = lab.publish(shop, "order.item.added")
    assert result.received == {many} and result.agrees
    lab.key_input.value = "order.created"
    lab.publish_button.click()
    assert lab.history[-1].received == {one, many}
    assert "data-received='2'" in lab.result_view.value
    lost = lab.publish(shop, "payment.charged")
    assert lost.returned and lost.received == frozenset()
    assert lab.empty() == 3
    assert all(d.ready == 0 for d in lab.depths().values())


def test_failure_panel_counts_retries_dead_letters_and_survives_a_kill(
        conn: RabbitConnection, declared: Callable[[Topology], Topology], unique_name: Callable[[str], str]) -> None:
    q = unique_name("panel")
    policy = RetryPolicy((0.05, 0.1))
    topology = declared(retry_topology(q, policy))
    in_flight_queues = [queue.name for queue in topology.queues if queue.name != dead_letter_queue(q)]
    panel = FailurePanel(conn, q, policy, failure_rate=0.3, seed=3)
    orders = {f"order-{i}" for i in range(30)}
    try:
        panel.send(20)
        panel.send_poison()
        panel.kill_consumer()
        panel.send(10)

        def settled() -> bool:
            # Every order ends done or parked: at a 30 % failure rate an order fails all 3 attempts 2.7 % of the
            # time, so some runs park an ordinary order too — that is the retry policy working, not a loss.
            # Settled = nothing waiting in the work or delay queues, nothing inside the handler, all accounted for.
            stats = panel.worker.stats
            if stats.received != stats.processed + stats.failed + stats.malformed:
                return False
            if any(passive_depth(conn, name).ready for name in in_flight_queues):
                return False
            counts = panel.counts()
            return counts["orders_done"] + counts["in_dlq"] >= len(orders) + 1

        try:
            wait_until(settled, timeout=20, what="every order done or parked, and the poison message parked")
        except Exception:
            print(panel.counts(), panel.worker.running, panel.worker._error, list(panel.worker.stats.recent))
            raise
        counts = panel.render()
        assert counts["retried"] > 0 and counts["kills"] == 1
        assert "data-count='in_dlq'" in panel.counts_view.value
        panel.stop()
        parked = consume(conn, dead_letter_queue(q), max_messages=counts["in_dlq"] + 5, timeout=3, idle=0.5)
        parked_ids = {str(getattr(d.envelope.message, "order_id", "")) for d in parked if d.envelope is not None}
        assert POISON in parked_ids
        assert orders <= set(panel.effects) | parked_ids  # nothing lost: each order took effect or was parked
        panel.set_failure_rate(0.0)
        assert panel.failure_rate == 0.0
    finally:
        panel.stop()
