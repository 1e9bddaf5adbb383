"""The outbox and inbox in PostgreSQL, relayed to RabbitMQ, with the relay killed at random points."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from course_lib.eventstore.postgres import PostgresEventStore
from course_lib.labs.outbox_chaos import kill_relay_repeatedly, verdict
from course_lib.messages import Envelope, envelope
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
from course_lib.outbox import PostgresInbox, PostgresOutbox, RabbitMQPublisher
from course_lib.shop.events import OrderCreated, OrderSubmitted, PaymentCharged


@pytest.fixture
def names(unique_name: Callable[[str], str]) -> dict[str, str]:
    return {k: unique_name(k).replace("-", "_") for k in ("events", "outbox", "inbox", "effects")}


@pytest.fixture
def rabbit(rabbitmq_url: str, unique_name: Callable[[str], str]) -> Iterator[tuple[RabbitConnection, str, str]]:
    exchange, queue = unique_name("pg-outbox-x"), unique_name("pg-outbox-q")
    topology = Topology([Exchange(exchange, "topic", durable=False)], [Queue(queue)], [Binding(exchange, queue, "#")])
    conn = RabbitConnection(rabbitmq_url, name="test-pg-outbox")
    declare(conn, topology)
    yield conn, exchange, queue
    delete_topology(conn, topology)
    conn.close()


def test_failed_outbox_write_rolls_back_the_append(postgres_url: str, names: dict[str, str]) -> None:
    store = PostgresEventStore(postgres_url, schema=names["events"])
    outbox = PostgresOutbox(postgres_url, names["outbox"])
    try:
        def broken(conn: Any, envs: list[Envelope[Any]]) -> None:
            outbox.write(conn, envs)
            raise RuntimeError("boom")

        with pytest.raises(RuntimeError):
            store.append("order-1", [OrderCreated(order_id="1", customer_id="c")], in_transaction=broken)
        assert store.stream_version("order-1") == 0 and outbox.counts().written == 0
        store.append("order-1", [OrderCreated(order_id="1", customer_id="c")], in_transaction=outbox.hook)
        assert store.stream_version("order-1") == 1 and outbox.counts().pending == 1
    finally:
        outbox.drop()
        outbox.close()
        store.drop_schema()
        store.close()


def test_chaos_with_postgres_outbox_and_inbox(postgres_url: str, names: dict[str, str],
                                              rabbit: tuple[RabbitConnection, str, str], rabbitmq_url: str) -> None:
    conn, exchange, queue = rabbit
    store = PostgresEventStore(postgres_url, schema=names["events"])
    outbox = PostgresOutbox(postgres_url, names["outbox"])
    inbox = PostgresInbox(postgres_url, "ledger", names["inbox"])
    effects_table = names["effects"]
    inbox.connection.execute(f"CREATE TABLE {effects_table} (message_id TEXT PRIMARY KEY, applied INT NOT NULL)")
    publisher = RabbitMQPublisher(exchange, rabbitmq_url)
    try:
        for n in range(15):
            store.append(f"order-{n}", [OrderCreated(order_id=str(n), customer_id="c"),
                                        OrderSubmitted(order_id=str(n), total_cents=n)], in_transaction=outbox.hook)
        written = {r.message_id for r in outbox.pending(1000)}
        stats = kill_relay_repeatedly(lambda: PostgresOutbox(postgres_url, names["outbox"]), publisher, seed=11,
                                      crash_probability=0.15)

        def effect(c: Any, env: Envelope[Any]) -> None:
            c.execute(f"INSERT INTO {effects_table} VALUES (%s, 1) ON CONFLICT (message_id) "
                      f"DO UPDATE SET applied = {effects_table}.applied + 1", (str(env.message_id),))

        deliveries = consume(conn, queue, max_messages=10_000, timeout=10, idle=1.0)
        for d in deliveries:
            assert d.envelope is not None
            inbox.handle(d.envelope, effect)
        effects = dict(inbox.connection.execute(f"SELECT message_id, applied FROM {effects_table}").fetchall())
        result = verdict(written, effects)
        assert stats.crashes > 0 and len(deliveries) >= len(written)
        assert inbox.duplicates == len(deliveries) - len(written)
        assert result.ok, result
    finally:
        publisher.close()
        inbox.connection.execute(f"DROP TABLE IF EXISTS {effects_table}")
        inbox.drop()
        inbox.close()
        outbox.drop()
        outbox.close()
        store.drop_schema()
        store.close()


def test_the_postgres_inbox_dedups_by_a_business_key_when_given_one(postgres_url: str,
                                                                    names: dict[str, str]) -> None:
    charge = PaymentCharged(order_id="o7", payment_id="pay-1", amount_cents=2500)
    deliveries = [envelope(charge), envelope(charge)]  # the same payment, re-sent with a fresh message id
    by_id = PostgresInbox(postgres_url, "by-id", names["inbox"])
    by_payment = PostgresInbox(postgres_url, "by-payment", names["inbox"], key=lambda e: e.message.payment_id)
    try:
        assert [by_id.handle(e, lambda c, e: None) for e in deliveries] == [True, True]
        assert [by_payment.handle(e, lambda c, e: None) for e in deliveries] == [True, False]
    finally:
        by_id.drop()
        by_id.close()
        by_payment.close()
