"""The capstone's composition root: the one place that opens its stores, builds its command bus and saga, declares
its RabbitMQ topology and creates its Kafka topics. ``CapstoneShop`` (``system``) only runs what this wires.

Every broker resource is named ``<prefix>-<name>-<run>`` (``Names``), so the reset command finds them by prefix.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from course_lib.buses import DEFAULT_MIDDLEWARE, CommandBus, Middleware
from course_lib.eventstore import EventStore, open_store
from course_lib.messages import Envelope
from course_lib.messaging.kafka import Topics
from course_lib.messaging.rabbitmq import (
    Binding,
    Exchange,
    RabbitConnection,
    RetryPolicy,
    Topology,
    declare,
    retry_topology,
)
from course_lib.outbox import KafkaPublisher, RabbitMQPublisher, SQLiteInbox, SQLiteOutbox
from course_lib.projections import SQLiteReadModels
from course_lib.sagas import Backoff, Orchestrator, SQLiteSagaLog
from course_lib.shop.commands import register_shop_handlers
from course_lib.shop.saga import order_saga
from course_lib.shop.services import Shop


@dataclass(frozen=True)
class Names:
    """Every broker resource of one run: ``<prefix>-<name>-<run>``."""

    prefix: str
    run: str

    def of(self, name: str) -> str:
        return f"{self.prefix}-{name}-{self.run}"

    @property
    def events_topic(self) -> str:
        return self.of("events")

    @property
    def sales_topic(self) -> str:
        return self.of("sales")

    @property
    def sales_group(self) -> str:
        return self.of("sales")

    @property
    def exchange(self) -> str:
        return self.of("shop")

    @property
    def saga_queue(self) -> str:
        return self.of("saga")


class FanOutPublisher:
    """The relay's publisher: every event to Kafka; ``OrderSubmitted`` also to RabbitMQ, as the saga's task.

    Both publishes wait for the broker; if either raises, the outbox row stays pending and is sent again —
    at-least-once on both brokers, which is why every consumer downstream must tolerate duplicates.
    """

    TASKS: frozenset[str] = frozenset({"OrderSubmitted"})

    def __init__(self, kafka: KafkaPublisher, rabbit: RabbitMQPublisher) -> None:
        self.kafka = kafka
        self.rabbit = rabbit
        self.kafka_sent = 0
        self.rabbit_sent = 0

    def publish(self, env: Envelope[Any]) -> None:
        """Publish to Kafka, then (for tasks) to RabbitMQ; raise if either broker did not take it."""
        self.kafka.publish(env)
        self.kafka_sent += 1
        if env.type in self.TASKS:
            self.rabbit.publish(env)
            self.rabbit_sent += 1

    def close(self) -> None:
        self.kafka.close()
        self.rabbit.close()


@dataclass
class Parts:
    """What ``open_parts`` opened and created: the stores in ``workdir`` and the broker resources of one run."""

    db_path: Path
    store: EventStore
    outbox: SQLiteOutbox
    read_models: SQLiteReadModels
    saga_log: SQLiteSagaLog
    inbox: SQLiteInbox
    admin: RabbitConnection
    topology: Topology
    topics: Topics
    publisher: FanOutPublisher


def topology(names: Names) -> Topology:
    """The saga's task queue, bound to ``order.submitted`` on the shop's exchange, with one delayed retry."""
    queue = names.saga_queue
    return Topology(exchanges=[Exchange(names.exchange, "topic")],
                    bindings=[Binding(names.exchange, queue, "order.submitted")]) + \
        retry_topology(queue, RetryPolicy((0.2,)), kind="quorum")


def open_parts(names: Names, workdir: Path, *, rabbitmq_url: str | None, bootstrap: str | None) -> Parts:
    """Open the stores (the event store and the outbox share one SQLite file, so one transaction covers both),
    declare the topology and create the two topics; the relay's publisher fans out to both brokers."""
    db = workdir / "shop.db"
    admin = RabbitConnection(rabbitmq_url, name=names.of("admin"))
    shape = topology(names)
    declare(admin, shape)
    topics = Topics(bootstrap)
    topics.create(names.events_topic, 1, exist_ok=True)
    topics.create(names.sales_topic, 1, exist_ok=True)
    publisher = FanOutPublisher(KafkaPublisher(names.events_topic, bootstrap),
                                RabbitMQPublisher(names.exchange, rabbitmq_url, name=names.of("relay")))
    return Parts(
        db_path=db, store=open_store(f"sqlite:///{db}"), outbox=SQLiteOutbox(db),
        read_models=SQLiteReadModels(workdir / "read.db"), saga_log=SQLiteSagaLog(workdir / "saga.db"),
        inbox=SQLiteInbox(workdir / "inbox.db", "order-saga"),
        admin=admin, topology=shape, topics=topics, publisher=publisher,
    )


def command_bus(store: EventStore, outbox: SQLiteOutbox, *first: Middleware) -> CommandBus:
    """The shop's command bus: every append writes its outbox rows in the same transaction; ``first`` middleware
    runs before the default chain."""
    bus = CommandBus(store, in_transaction=outbox.hook, middleware=(*first, *DEFAULT_MIDDLEWARE))
    return register_shop_handlers(bus)


def order_orchestrator(shop: Shop, log: SQLiteSagaLog) -> Orchestrator:
    """The order saga against ``shop``'s services, logged in ``log``, retrying quickly (the drill is short)."""
    return Orchestrator(order_saga(shop), log, backoff=Backoff(initial_s=0.01, max_s=0.05))


__all__ = ["FanOutPublisher", "Names", "Parts", "command_bus", "open_parts", "order_orchestrator", "topology"]
