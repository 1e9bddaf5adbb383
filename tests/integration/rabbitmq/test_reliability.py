"""Reliability against the real broker: a killed consumer, poison and malformed messages, a broker restart."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pika
import pytest

from course_lib.labs.ledger import Ledger
from course_lib.messages import envelope
from course_lib.messaging.rabbitmq import (
    Delivery,
    Publisher,
    Queue,
    RabbitConnection,
    RetryPolicy,
    Topology,
    Worker,
    consume,
    dead_letter_queue,
    passive_depth,
    quorum_with_delivery_limit,
    retry_topology,
)
from course_lib.shop.events import OrderCreated, OrderPaid
from course_lib.waiting import wait_until

pytestmark = pytest.mark.rabbitmq
ROOT = Path(__file__).resolve().parents[3]


def _start_ledger_consumer(queue: str, db: Path, url: str) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "course_lib.labs.ledger", "--queue", queue, "--db", str(db),
         "--url", url, "--prefetch", "20", "--work-ms", "3", "--max-seconds", "60"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "consuming"
    return process


def test_kill_9_mid_stream_loses_nothing_and_counts_each_payment_once(
        conn: RabbitConnection, declared: Callable[[Topology], Topology], unique_name: Callable[[str], str],
        tmp_path: Path, rabbitmq_url: str) -> None:
    q = unique_name("payments")
    declared(Topology(queues=[Queue(q, "quorum"), Queue(dead_letter_queue(q), "quorum")]))
    payments = [OrderPaid(order_id=f"o{i}", amount_cents=100 + i, payment_id=f"p{i}") for i in range(300)]
    Publisher(conn).publish_many([(envelope(p), q) for p in payments])
    ledger = Ledger(tmp_path / "ledger.db")

    first = _start_ledger_consumer(q, ledger.path, rabbitmq_url)
    wait_until(lambda: ledger.processed() >= 60, timeout=30, what="the first consumer to process 60 payments")
    first.send_signal(signal.SIGKILL)  # no goodbye, no acks for what is in flight
    assert first.wait(10) == -signal.SIGKILL
    left = passive_depth(conn, q).ready
    assert left > 0

    second = _start_ledger_consumer(q, ledger.path, rabbitmq_url)
    try:
        wait_until(lambda: ledger.processed() == len(payments) and passive_depth(conn, q).ready == 0,
                   timeout=30, what="every payment to be processed")
    finally:
        second.terminate()
        second.wait(10)
    assert ledger.processed() == len(payments)                          # at least once: none lost
    assert ledger.total() == sum(p.amount_cents for p in payments)      # exactly once in effect
    assert ledger.redelivered_attempts() >= 1                           # the killed consumer's unacked came back
    assert ledger.attempts() == ledger.processed() + ledger.duplicates()


def test_poison_and_malformed_messages_end_in_the_dlq_and_the_worker_keeps_going(
        conn: RabbitConnection, declared: Callable[[Topology], Topology], unique_name: Callable[[str], str]) -> None:
    q = unique_name("orders")
    policy = RetryPolicy((0.1, 0.2))
    declared(retry_topology(q, policy))
    calls: Counter[str] = Counter()
    lock = threading.Lock()

    def handler(delivery: Delivery) -> None:
        order = delivery.message.order_id  # type: ignore[attr-defined]
        with lock:
            calls[order] += 1
            attempt = calls[order]
        if order == "poison" or (order == "flaky" and attempt <= 2):
            raise ValueError(f"cannot handle {order} (attempt {attempt})")

    publisher = Publisher(conn)
    good = [envelope(OrderCreated(order_id=f"ok{i}", customer_id="c")) for i in range(20)]
    with Worker(q, handler, retry=policy, prefetch=5) as worker:
        publisher.publish(envelope(OrderCreated(order_id="poison", customer_id="c")), q)
        publisher.publish_body(b"{not json", q)
        publisher.publish_body(b'{"metadata": {"message_id": "x"}}', q)
        publisher.publish(envelope(OrderCreated(order_id="flaky", customer_id="c")), q)
        bad_type = envelope(OrderCreated(order_id="u", customer_id="c")).with_metadata(type="NoSuchEvent")
        from course_lib.messages import to_bytes
        publisher.publish_body(to_bytes(bad_type), q)
        publisher.publish_many([(e, q) for e in good])
        wait_until(lambda: worker.stats.processed == 21 and worker.stats.dead_lettered == 4, timeout=15,
                   what="21 processed and 4 dead-lettered")
        assert worker.running
    assert calls["flaky"] == 3 and calls["poison"] == policy.max_attempts
    parked = consume(conn, dead_letter_queue(q), max_messages=10, timeout=3, idle=0.5)
    reasons = sorted(d.headers["x-last-error"].split(":")[0] for d in parked)
    assert reasons == ["MalformedMessage", "MalformedMessage", "UnknownMessageType", "ValueError"]
    poison = next(d for d in parked if d.headers["x-last-error"].startswith("ValueError"))
    assert poison.headers["x-retry-count"] == policy.max_attempts
    assert "poison" in poison.headers["x-last-error"]
    assert passive_depth(conn, q).ready == 0


def test_quorum_delivery_limit_dead_letters_without_delay_queues(
        conn: RabbitConnection, declared: Callable[[Topology], Topology], unique_name: Callable[[str], str]) -> None:
    q = unique_name("limited")
    declared(quorum_with_delivery_limit(q, limit=2))

    def always_fails(delivery: Delivery) -> None:
        raise RuntimeError("poison")

    Publisher(conn).publish(envelope(OrderCreated(order_id="p", customer_id="c")), q)
    with Worker(q, always_fails, dead_letter=False, requeue_on_failure=True, prefetch=1) as worker:
        wait_until(lambda: passive_depth(conn, dead_letter_queue(q)).ready == 1, timeout=15,
                   what="the broker to dead-letter after the delivery limit")
    assert worker.stats.failed == 3  # first delivery + 2 redeliveries, then the broker gave up


def test_stop_returns_promptly_with_a_handler_in_flight_and_the_message_comes_back(
        conn: RabbitConnection, declared: Callable[[Topology], Topology], unique_name: Callable[[str], str]) -> None:
    q = unique_name("slow")
    declared(Topology(queues=[Queue(q), Queue(dead_letter_queue(q))]))
    started, release = threading.Event(), threading.Event()

    def slow(delivery: Delivery) -> None:
        started.set()
        release.wait(10)

    Publisher(conn).publish(envelope(OrderCreated(order_id="o", customer_id="c")), q)
    worker = Worker(q, slow).start()
    assert started.wait(5)
    worker.stop(timeout=2)
    assert not worker.running
    release.set()
    again = consume(conn, q, max_messages=1, timeout=3)
    assert len(again) == 1 and again[0].redelivered


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", *args], check=True, capture_output=True, timeout=60)


@pytest.mark.slow
@pytest.mark.broker_restart
def test_a_broker_restart_loses_no_persistent_message_in_a_durable_queue(
        conn: RabbitConnection, declared: Callable[[Topology], Topology], unique_name: Callable[[str], str],
        rabbitmq_url: str) -> None:
    # the only test that restarts the shared broker (stop_app/start_app: a few seconds' outage)
    can_restart = shutil.which("rabbitmqctl") is not None and (
        os.geteuid() == 0 or os.access("/var/lib/rabbitmq/.erlang.cookie", os.R_OK))
    if not can_restart:
        reason = "needs rabbitmqctl and the broker's Erlang cookie (root or the rabbitmq user) to restart the broker"
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(reason + " — in CI this must run")
        pytest.skip(reason + " (a broker in Docker: docker compose restart rabbitmq does the same by hand)")
    classic, quorum = unique_name("durable"), unique_name("quorum")
    declared(Topology(queues=[Queue(classic), Queue(quorum, "quorum")]))
    publisher = Publisher(conn)
    for q in (classic, quorum):
        publisher.publish_many([(envelope(OrderCreated(order_id=f"o{i}", customer_id="c")), q) for i in range(100)])
    conn.close()
    try:
        _rabbitmqctl("stop_app")
    finally:
        _rabbitmqctl("start_app")  # whatever happened, give the shared broker back
    _rabbitmqctl("await_startup")
    fresh = RabbitConnection(rabbitmq_url, name="tests-after-restart")

    def depths() -> tuple[int, int] | None:
        try:
            return passive_depth(fresh, classic).ready, passive_depth(fresh, quorum).ready
        except (pika.exceptions.AMQPError, Exception):
            return None

    assert wait_until(depths, timeout=30, what="both queues back after the restart") == (100, 100)
    fresh.close()
