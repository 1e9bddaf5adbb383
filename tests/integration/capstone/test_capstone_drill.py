"""The capstone chaos drill on the real brokers: a seeded schedule of kills, crashes, declines and duplicates,
then every invariant asserted — and shown to fail when the end state is really broken."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from course_lib.capstone import CapstoneShop, check, run_traffic
from course_lib.messaging.kafka import Topics
from course_lib.messaging.rabbitmq import QueueNotFound, RabbitConnection, passive_depth
from course_lib.waiting import wait_until


@pytest.fixture
def shop(tmp_path: Path, rabbitmq_url: str, kafka_bootstrap: str) -> Iterator[CapstoneShop]:
    logging.getLogger("course_lib").addHandler(logging.NullHandler())  # injected failures are counted, not logged
    running = CapstoneShop(uuid.uuid4().hex[:8], tmp_path, rabbitmq_url=rabbitmq_url, bootstrap=kafka_bootstrap,
                           seed=7, prefix="t-capstone")
    try:
        yield running
    finally:
        running.close()


def drill(shop: CapstoneShop, orders: int = 30) -> None:
    """The seeded chaos schedule, pulled while the orders flow."""
    shop.shop.faults.fail("payment.charge", "declined", times=None, probability=0.15)
    shop.shop.faults.fail("payment.charge", "unavailable", times=None, probability=0.15)
    shop.start()

    def chaos(n: int) -> None:
        if n == 4:
            shop.crashes.relay_probability = 0.25
            shop.crashes.projector_failures = 2
        if n == 8:
            shop.kill_consumer()
        if n == 12:
            shop.kill_relay()
        if n == 16:
            shop.kill_projector("order_summaries")
        if n == 20:
            shop.kill_projector("customer_totals")
        if n == 24:
            shop.duplicate_tasks(5)
        if n == orders - 1:
            shop.crashes.relay_probability = 0.0

    run_traffic(shop, orders, chaos=chaos)
    wait_until(shop.settled, timeout=60, what="every order paid or cancelled and every worker caught up")
    shop.finish_analytics()


def test_every_invariant_survives_the_drill(shop: CapstoneShop) -> None:
    drill(shop)
    report = check(shop)
    assert report.ok, str(report)
    numbers = report.numbers
    assert numbers["orders"] == 30 and numbers["paid"] + numbers["cancelled"] == 30
    assert numbers["paid"] > 0 and numbers["cancelled"] > 0  # both saga paths were exercised
    # the chaos really happened: duplicates reached both brokers' consumers and were absorbed
    assert shop.crashes.relay_crashes > 0 and shop.crashes.projector_crashes == 2
    assert numbers["kafka_duplicates"] > 0 and numbers["inbox_duplicates"] > 0
    assert shop.restarts == {"relay": 1, "projector": 2, "consumer": 1}
    assert numbers["analytics_revenue_cents"] == numbers["revenue_cents"]
    assert sum(shop.shop.faults.injected.count(("payment.charge", k)) for k in ("declined", "unavailable")) > 0


def test_the_invariants_catch_a_broken_end_state(shop: CapstoneShop) -> None:
    drill(shop, orders=8)
    assert check(shop).ok
    with shop.read_models.transaction() as tx:  # a read model that drifted from the log
        tx.execute("UPDATE order_summaries SET status = 'paid' WHERE status = 'cancelled'")
        tx.execute("UPDATE customer_totals SET spent_cents = spent_cents + 1")
    order_id, _ = shop.shop.payment.charges[0]
    shop.shop.payment.charges.append((order_id, 100))  # a second charge
    shop.sales[(0, "revenue")] = 1.0  # a window counted twice
    failures = check(shop).failures()
    assert set(failures) == {"read models equal a rebuild", "money consistent", "nothing applied twice"}
    assert "customer_totals" in failures["read models equal a rebuild"]
    assert order_id in failures["money consistent"]


def test_close_stops_every_worker_and_deletes_every_resource(tmp_path: Path, rabbitmq_url: str,
                                                             kafka_bootstrap: str) -> None:
    shop = CapstoneShop(uuid.uuid4().hex[:8], tmp_path, rabbitmq_url=rabbitmq_url, bootstrap=kafka_bootstrap,
                        prefix="t-capstone").start()
    assert all(shop.running().values())
    names = shop.names
    shop.close()
    assert not any(shop.running().values())
    with Topics(kafka_bootstrap) as topics:
        assert not {names.events_topic, names.sales_topic} & set(topics.list())
    with RabbitConnection(rabbitmq_url, name="t-capstone-check") as conn:
        for queue in (names.saga_queue, f"{names.saga_queue}.dlq"):
            with pytest.raises(QueueNotFound):
                passive_depth(conn, queue)
