"""The outbox against RabbitMQ: the dual-write bug with a real SIGKILL, and the relay chaos drill."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from course_lib.eventstore.sqlite import SQLiteEventStore
from course_lib.labs.dualwrite import run_writer
from course_lib.labs.outbox_chaos import CountingConsumer, kill_relay_repeatedly, verdict
from course_lib.messaging.rabbitmq import (
    Binding,
    Exchange,
    Queue,
    RabbitConnection,
    Topology,
    consume,
    declare,
    delete_topology,
)
from course_lib.outbox import RabbitMQPublisher, Relay, SQLiteOutbox
from tests.integration.outbox.shop_writes import write_orders


@pytest.fixture
def rabbit(rabbitmq_url: str, unique_name: Callable[[str], str]) -> Iterator[tuple[RabbitConnection, str, str]]:
    exchange, queue = unique_name("outbox-x"), unique_name("outbox-q")
    topology = Topology([Exchange(exchange, "topic", durable=False)], [Queue(queue)], [Binding(exchange, queue, "#")])
    conn = RabbitConnection(rabbitmq_url, name="test-outbox")
    declare(conn, topology)
    yield conn, exchange, queue
    delete_topology(conn, topology)
    conn.close()


def _ids_in(conn: RabbitConnection, queue: str, *, timeout: float = 2.0) -> list[str]:
    return [str(d.envelope.message_id) for d in consume(conn, queue, max_messages=10_000, timeout=timeout, idle=0.5)
            if d.envelope is not None]


def test_dual_write_killed_between_commit_and_publish_loses_the_event(
        tmp_path: Path, rabbit: tuple[RabbitConnection, str, str], rabbitmq_url: str) -> None:
    conn, exchange, queue = rabbit
    db = str(tmp_path / "shop.db")
    control = run_writer("dual-write", db, exchange, rabbitmq_url, kill=False)
    assert _ids_in(conn, queue) == [control.message_id]  # without the kill, both writes happen

    killed = run_writer("dual-write", db, exchange, rabbitmq_url, kill=True)
    assert killed.returncode == -9
    store = SQLiteEventStore(db)
    stored = {str(e.message_id) for e in store.read_all()}
    store.close()
    assert killed.message_id in stored  # the database has it …
    assert _ids_in(conn, queue, timeout=1.0) == []  # … the broker never will


def test_outbox_writer_killed_at_the_same_point_loses_nothing(
        tmp_path: Path, rabbit: tuple[RabbitConnection, str, str], rabbitmq_url: str) -> None:
    conn, exchange, queue = rabbit
    db = str(tmp_path / "shop.db")
    killed = run_writer("outbox", db, exchange, rabbitmq_url, kill=True)
    assert killed.returncode == -9
    outbox = SQLiteOutbox(db)
    assert [r.message_id for r in outbox.pending()] == [killed.message_id]
    publisher = RabbitMQPublisher(exchange, rabbitmq_url)
    try:
        assert Relay(outbox, publisher).drain() == 1
    finally:
        publisher.close()
        outbox.close()
    assert _ids_in(conn, queue) == [killed.message_id]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_chaos_relay_killed_at_random_points_over_rabbitmq(
        tmp_path: Path, rabbit: tuple[RabbitConnection, str, str], rabbitmq_url: str, seed: int) -> None:
    conn, exchange, queue = rabbit
    db = tmp_path / "shop.db"
    written = write_orders(db, 25)
    publisher = RabbitMQPublisher(exchange, rabbitmq_url)
    try:
        stats = kill_relay_repeatedly(lambda: SQLiteOutbox(db), publisher, seed=seed, crash_probability=0.15)
    finally:
        publisher.close()
    consumer = CountingConsumer(tmp_path / "consumer.db")
    deliveries = consume(conn, queue, max_messages=10_000, timeout=10, idle=1.0)
    for d in deliveries:
        assert d.envelope is not None
        consumer.receive(d.envelope)
    result = verdict(written, consumer.effects())
    consumer.close()
    print(f"seed {seed}: {stats.crashes} injected crashes over {stats.relays_started} relays "
          f"({stats.crash_points}); {len(deliveries)} deliveries of {len(written)} events; "
          f"lost {result.lost}, duplicated effects {result.duplicated}")
    assert stats.crashes >= 5
    assert len(deliveries) >= len(written)
    assert result.lost == 0 and result.duplicated == 0
    assert result.applied == len(written)


def test_unreachable_broker_leaves_rows_pending_until_it_is_back(
        tmp_path: Path, rabbit: tuple[RabbitConnection, str, str], rabbitmq_url: str) -> None:
    from course_lib.errors import ServiceUnavailable

    conn, exchange, queue = rabbit
    db = tmp_path / "shop.db"
    written = write_orders(db, 2)
    outbox = SQLiteOutbox(db)
    dead = RabbitMQPublisher(exchange, "amqp://guest:guest@127.0.0.1:1/%2F")
    live = RabbitMQPublisher(exchange, rabbitmq_url)
    try:
        with pytest.raises(ServiceUnavailable, match=r"127\.0\.0\.1:1\b"):
            Relay(outbox, dead).run_once()
        assert outbox.counts().pending == 4 and outbox.counts().sent == 0
        assert Relay(outbox, live).drain() == 4
    finally:
        dead.close()
        live.close()
        outbox.close()
    assert set(_ids_in(conn, queue)) == written
