"""The shop, end to end, wired from the course's existing pieces — composition only, no new mechanisms.

    command bus ──► Order aggregate ──► event store + outbox (one SQLite transaction)
    relay ──► Kafka topic (every event)  and  RabbitMQ exchange (OrderSubmitted: a task for the saga worker)
    projector workers ──► order summaries, customer totals          (checkpoint in the read model's transaction)
    windowed job on Kafka ──► sales per window                        (real-time analytics, results topic)
    RabbitMQ worker ──► inbox ──► order saga (inventory, payment, shipping, notifications) ──► PayOrder/CancelOrder

What it runs is wired in one place, ``course_lib.capstone.wiring`` (stores, command bus, saga, topology, topics);
``close()`` stops every worker and deletes every resource the run created.
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from course_lib.aggregates import Repository
from course_lib.buses import CommandContext, Next
from course_lib.capstone.wiring import FanOutPublisher, Names, command_bus, open_parts, order_orchestrator
from course_lib.eventstore.base import NO_STREAM, ConcurrencyError
from course_lib.messages import Envelope, envelope
from course_lib.messaging.kafka import WindowedJob
from course_lib.messaging.kafka.records import Record
from course_lib.messaging.rabbitmq import (
    RabbitConnection,
    RetryPolicy,
    Worker,
    delete_topology,
    queue_depth,
)
from course_lib.messaging.rabbitmq.wire import Delivery
from course_lib.outbox import KafkaPublisher, RabbitMQPublisher, Relay, RelayWorker, SQLiteOutbox
from course_lib.projections import Projection, Projector
from course_lib.shop.catalog import PRICES
from course_lib.shop.commands import AddItem, CancelOrder, PayOrder, PlaceOrder, SubmitOrder
from course_lib.shop.events import OrderCreated
from course_lib.shop.order import Order
from course_lib.shop.projections import CustomerTotals, OrderSummaries
from course_lib.shop.saga import order_data, saga_facts
from course_lib.shop.services import Shop
from course_lib.streams import TumblingWindows

TERMINAL_STATUSES: frozenset[str] = frozenset({"paid", "cancelled"})
"""Where every order must end: the saga either charged it (paid) or undid everything (cancelled)."""


class Crashes:
    """Seeded, switchable failure injection for the relay and the projector (off until ``arm``)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.relay_probability = 0.0
        self.projector_failures = 0
        self.relay_crashes = 0
        self.projector_crashes = 0
        self._lock = threading.Lock()

    def relay_hook(self, where: str) -> None:
        """Kill the relay after the broker confirmed but before the row is marked sent: a duplicate follows."""
        with self._lock:
            if where != "after publish" or self.rng.random() >= self.relay_probability:
                return
            self.relay_crashes += 1
        raise InjectedCrash("relay killed after publish, before marking the row sent")

    def projector_fault(self, point: str, position: int) -> None:
        """Fail a projector batch just before it commits: the whole batch must roll back and be redone."""
        with self._lock:
            if point != "before_commit" or self.projector_failures <= 0:
                return
            self.projector_failures -= 1
            self.projector_crashes += 1
        raise InjectedCrash(f"projector killed before committing up to position {position}")


class InjectedCrash(RuntimeError):
    """A failure the chaos drill injected on purpose."""


@dataclass(frozen=True)
class Metrics:
    """One sample for the dashboard."""

    at: float
    events: int
    queue_ready: int
    queue_unacked: int
    projector_lag: int
    kafka_lag: int


class CapstoneShop:
    """The running shop. ``start()`` starts every worker; ``close()`` stops them and deletes what was created."""

    def __init__(self, run: str, workdir: str | Path, *, rabbitmq_url: str | None = None,
                 bootstrap: str | None = None, seed: int = 12, prefix: str = "nb12",
                 stock: dict[str, int] | None = None, window_ms: int = 2000) -> None:
        self.names = Names(prefix, run)
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.rabbitmq_url = rabbitmq_url
        self.bootstrap = bootstrap
        self.seed = seed
        self.window_ms = window_ms
        self.crashes = Crashes(seed)
        self.rng = random.Random(seed)
        parts = open_parts(self.names, self.workdir, rabbitmq_url=rabbitmq_url, bootstrap=bootstrap)
        self.db_path = parts.db_path
        self.store, self.outbox, self.read_models = parts.store, parts.outbox, parts.read_models
        self.saga_log, self.inbox = parts.saga_log, parts.inbox
        self._conn, self.topology = parts.admin, parts.topology
        self.topics, self.publisher = parts.topics, parts.publisher
        self.journal: list[Envelope[Any]] = []  # every command the bus handled: the events' causes, for tracing
        self.bus = command_bus(self.store, self.outbox, self._record_command)
        self.shop = Shop.seeded(seed, stock or {"mug": 40, "tee": 20, "poster": 8})
        self.initial_stock = dict(self.shop.inventory.stock)
        self.orchestrator = order_orchestrator(self.shop, self.saga_log)
        self.sales: dict[tuple[int, str], float] = {}  # emitted windows, as the analytics job reports them
        self.projectors: dict[str, Projector] = {}
        self.relay_worker: RelayWorker | None = None
        self.saga_worker: Worker | None = None
        self.analytics: WindowedJob | None = None
        self._analytics_stop = threading.Event()
        self._analytics_thread: threading.Thread | None = None
        self.restarts = {"relay": 0, "projector": 0, "consumer": 0}
        self._admin_lock = threading.Lock()
        self.started_at = time.monotonic()

    # ------------------------------------------------------------------------------------------------ wiring

    def _record_command(self, ctx: CommandContext, call_next: Next) -> Any:
        result = call_next(ctx)
        self.journal.append(ctx.command)  # only commands that were handled: a rejected one caused nothing
        return result

    def start(self) -> CapstoneShop:
        """Start the relay, both projectors, the saga worker and the analytics job."""
        self.start_relay()
        for projection in (OrderSummaries(), CustomerTotals()):
            self.start_projector(projection)
        self.start_consumer()
        self.start_analytics()
        return self

    def start_relay(self) -> RelayWorker:
        """A fresh relay process: its own outbox connection, nothing remembered from the last one."""
        relay = Relay(SQLiteOutbox(self.db_path), self.publisher, batch_size=50, crash_hook=self.crashes.relay_hook)
        self.relay_worker = RelayWorker(relay, interval=0.02).start()
        return self.relay_worker

    def start_projector(self, projection: Projection) -> Projector:
        """A fresh projector that resumes from the committed checkpoint."""
        projector = Projector(self.store, self.read_models, projection, batch_size=25,
                              fault=self.crashes.projector_fault)
        self.projectors[projection.name] = projector.start(poll_interval=0.02)
        return projector

    def start_consumer(self) -> Worker:
        """The saga worker on RabbitMQ (a failed attempt is retried once after 0.2 s, then dead-lettered)."""
        self.saga_worker = Worker(self.names.saga_queue, self._handle_task, url=self.rabbitmq_url, prefetch=5,
                                  retry=RetryPolicy((0.2,)), name=self.names.of("saga-worker")).start()
        return self.saga_worker

    def start_analytics(self) -> WindowedJob:
        """Sales per tumbling window, from the Kafka topic (assigned partitions: no group join)."""
        seen: set[str] = set()  # per job instance: a duplicate record must not count twice in a window

        def extract(record: Record) -> tuple[int, str, float] | None:
            env = record.envelope()
            if env.type != "OrderPaid" or str(env.message_id) in seen:
                return None
            seen.add(str(env.message_id))
            paid: Any = env.message
            return int(env.metadata.occurred_at.timestamp() * 1000), "revenue", float(paid.amount_cents)

        def remember(result: Any) -> None:
            self.sales[(result.window.start_ms, result.key)] = result.total

        job = WindowedJob(self.names.events_topic, self.names.sales_topic, self.names.sales_group,
                          TumblingWindows(self.window_ms), extract, bootstrap=self.bootstrap, on_result=remember)
        self.analytics = job
        self._analytics_stop.clear()

        def loop() -> None:
            while not self._analytics_stop.is_set():
                job.run(max_messages=200, timeout=0.5)  # bounded; returns at once when idle
                self._analytics_stop.wait(0.05)

        self._analytics_thread = threading.Thread(target=loop, name=self.names.of("analytics"), daemon=True)
        self._analytics_thread.start()
        return job

    # ------------------------------------------------------------------------------------------- the saga

    def _handle_task(self, delivery: Delivery) -> None:
        assert delivery.envelope is not None  # the worker dead-letters bodies that are not envelopes
        def effect(_conn: Any, env: Envelope[Any]) -> None:
            self.settle(env)

        self.inbox.handle(delivery.envelope, effect)

    def settle(self, submitted: Envelope[Any]) -> str:
        """Run (or resume) the order's saga, record what it did, then pay or cancel the order. Idempotent."""
        order_id = submitted.message.order_id
        order = Repository(self.store, Order).load(order_id)
        if order.status != "submitted":
            return order.status  # settled by an earlier delivery
        items = {sku: line["quantity"] for sku, line in order.items.items()}
        if self.saga_log.entries(order_id):
            state = self.orchestrator.resume(order_id)
        else:
            state = self.orchestrator.start(order_id, order_data(order_id, items, order.total_cents))
        if state.status not in ("completed", "compensated"):
            raise RuntimeError(f"saga {order_id} ended {state.status}: {state.error}")
        facts = [submitted.caused(f) for f in saga_facts(state)]
        with contextlib.suppress(ConcurrencyError):  # already recorded by an earlier delivery
            self.store.append(f"saga-{order_id}", facts, NO_STREAM, in_transaction=self.outbox.hook)
        if state.status == "completed":
            command: Any = PayOrder(order_id=order_id, payment_id=str(state.data["payment_id"]))
        else:
            command = CancelOrder(order_id=order_id, reason=(state.error or "saga compensated")[:120])
        self.bus.dispatch(submitted.caused(command))
        return "paid" if state.status == "completed" else "cancelled"

    # ------------------------------------------------------------------------------------------- traffic

    def place_order(self, order_id: str, customer_id: str, items: dict[str, int]) -> Envelope[Any]:
        """Place, fill and submit one order through the command bus; returns the first command (the journey's root)."""
        place: Envelope[Any] = envelope(PlaceOrder(order_id=order_id, customer_id=customer_id))
        self.bus.dispatch(place)
        for sku, quantity in items.items():
            self.bus.dispatch(place.caused(AddItem(order_id=order_id, sku=sku, quantity=quantity,
                                                   unit_price_cents=PRICES[sku])))
        self.bus.dispatch(place.caused(SubmitOrder(order_id=order_id)))
        return place

    def random_order(self, n: int) -> Envelope[Any]:
        """Order ``n`` with one or two random lines, from one of five customers (seeded)."""
        skus = self.rng.sample(sorted(PRICES), self.rng.choice((1, 2)))
        return self.place_order(f"o-{n:03d}", f"c-{self.rng.randrange(5)}",
                                {sku: self.rng.choice((1, 2)) for sku in skus})

    # ----------------------------------------------------------------------------------------- chaos levers

    def kill_relay(self) -> None:
        """Stop the relay mid-stream and start a new one (rows not marked sent are published again)."""
        if self.relay_worker is not None:
            self.relay_worker.stop()
        self.restarts["relay"] += 1
        self.start_relay()

    def kill_projector(self, name: str = OrderSummaries.name) -> None:
        """Stop a projector and start a new instance from its committed checkpoint."""
        old = self.projectors[name]
        old.close()
        self.restarts["projector"] += 1
        self.start_projector(type(old.projection)())

    def kill_consumer(self) -> None:
        """Drop the saga worker's connection like a crashed process (unacked tasks are redelivered), then restart."""
        if self.saga_worker is not None:
            self.saga_worker.kill()
        self.restarts["consumer"] += 1
        self.start_consumer()

    def duplicate_tasks(self, count: int) -> int:
        """Deliver ``count`` already-published ``OrderSubmitted`` events again, on both brokers."""
        submitted = [env for env in self.store.read_all(1, limit=100_000) if env.type == "OrderSubmitted"]
        chosen = self.rng.sample(submitted, min(count, len(submitted)))
        # its own connections: pika and the relay's publisher must not be shared between threads
        duplicator = FanOutPublisher(KafkaPublisher(self.names.events_topic, self.bootstrap),
                                     RabbitMQPublisher(self.names.exchange, self.rabbitmq_url,
                                                       name=self.names.of("duplicator")))
        try:
            for env in chosen:
                duplicator.publish(env)
        finally:
            duplicator.close()
        return len(chosen)

    # ----------------------------------------------------------------------------------------- observing

    def orders(self) -> dict[str, str]:
        """Order id → status, from the event store (the source of truth)."""
        out: dict[str, str] = {}
        for env in self.store.read_all(1, limit=1_000_000):
            if isinstance(env.message, OrderCreated):
                out[env.message.order_id] = "draft"
        for order_id in out:
            out[order_id] = Repository(self.store, Order).load(order_id).status
        return out

    def settled(self) -> bool:
        """True when every order is paid or cancelled and every worker has caught up."""
        orders = self.orders()
        if not orders or any(s not in TERMINAL_STATUSES for s in orders.values()):
            return False
        head = self.store.last_position()
        return (self.outbox.counts().pending == 0
                and all(p.position >= head for p in self.projectors.values()))

    def metrics(self) -> Metrics:
        """Events so far, the saga queue's depth, the projectors' and the analytics job's lag."""
        try:
            with self._admin_lock:  # a pika connection serves one thread at a time (sampler thread vs. cells)
                depth = queue_depth(self._conn, self.names.saga_queue)
            ready, unacked = depth.ready, depth.unacked or 0
        except Exception:  # a sample missed while a worker restarts is not worth failing the dashboard
            ready = unacked = 0
        read = self.analytics.records_read if self.analytics is not None else 0
        return Metrics(time.monotonic() - self.started_at, self.store.last_position(), ready, unacked,
                       max((p.lag() for p in self.projectors.values()), default=0),
                       max(0, self.publisher.kafka_sent - read))

    def messages(self) -> list[Envelope[Any]]:
        """Every recorded message: the commands handled and the events stored — what tracing works from."""
        return [*self.journal, *self.store.read_all(1, limit=1_000_000)]

    def finish_analytics(self) -> dict[tuple[int, str], float]:
        """Stop the analytics loop and emit every window still open (the stream is over)."""
        self._analytics_stop.set()
        if self._analytics_thread is not None:
            self._analytics_thread.join(10)
        if self.analytics is not None:
            self.analytics.run(max_messages=100_000, timeout=2.0)
            self.analytics.finish()
        return dict(self.sales)

    # ------------------------------------------------------------------------------------------- shutdown

    def stop(self) -> None:
        """Stop every worker (idempotent); then raise the first ``WorkerFailed`` of one that had died on its own."""
        failures: list[Exception] = []
        for stop in (self.relay_worker.stop if self.relay_worker is not None else None,
                     *(projector.close for projector in self.projectors.values()),
                     self.saga_worker.stop if self.saga_worker is not None else None):
            try:
                if stop is not None:
                    stop()
            except Exception as exc:  # every other worker must still be stopped
                failures.append(exc)
        self._analytics_stop.set()
        if self._analytics_thread is not None:
            self._analytics_thread.join(10)
        if failures:
            raise failures[0]

    def running(self) -> dict[str, bool]:
        """Which workers are alive."""
        return {
            "relay": bool(self.relay_worker and self.relay_worker.running),
            "projectors": any(p.running for p in self.projectors.values()),
            "saga worker": bool(self.saga_worker and self.saga_worker.running),
            "analytics": bool(self._analytics_thread and self._analytics_thread.is_alive()),
        }

    def close(self) -> None:
        """Stop everything, delete the queues, exchange, topics and group, close the stores (even when a worker
        had died: its ``WorkerFailed`` is raised after the cleanup)."""
        try:
            self.stop()
        finally:
            self._clean_up()

    def _clean_up(self) -> None:
        if self.analytics is not None:
            with contextlib.suppress(Exception):
                self.analytics.close()
        self.publisher.close()
        with self._admin_lock, contextlib.suppress(Exception):  # it may have timed out while the notebook sat idle
            self._conn.close()
        with RabbitConnection(self.rabbitmq_url, name=self.names.of("cleanup")) as conn:
            delete_topology(conn, self.topology)
        self.topics.delete(self.names.events_topic, self.names.sales_topic)
        self.topics.delete_group(self.names.sales_group)
        self.topics.close()
        for closeable in (self.inbox, self.saga_log, self.read_models, self.outbox, self.store):
            with contextlib.suppress(Exception):
                closeable.close()
        self.orchestrator.close()


def run_traffic(shop: CapstoneShop, orders: int, *, first: int = 0,
                chaos: Callable[[int], None] | None = None) -> list[Envelope[Any]]:
    """Place orders ``first`` … ``first + orders - 1``; ``chaos(n)`` runs after order n, to pull a lever mid-traffic."""
    roots = []
    for n in range(first, first + orders):
        roots.append(shop.random_order(n))
        if chaos is not None:
            chaos(n)
    return roots
