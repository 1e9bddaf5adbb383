"""Notebook 10's widget: the outbox, the relay and the inbox with live counters, over a real RabbitMQ.

State lives on :class:`OutboxLab`: an SQLite event store with its outbox table, a relay publishing to a RabbitMQ
exchange, and a consumer that applies each delivery through an inbox. Buttons place orders, run the relay, kill
the relay right after a publish (before it marks the row sent), and deliver what is queued; the counters show
written / sent / pending rows, deliveries, effects applied and duplicates absorbed. Every button calls a method,
so a notebook cell can do the same and assert the counters.
"""

from __future__ import annotations

import html
import random
import tempfile
import uuid
from pathlib import Path

import ipywidgets as widgets

from course_lib.eventstore.sqlite import SQLiteEventStore
from course_lib.labs.outbox_chaos import CountingConsumer
from course_lib.messaging.rabbitmq import RabbitConnection, consume
from course_lib.outbox.outbox import SQLiteOutbox
from course_lib.outbox.publishers import RabbitMQPublisher
from course_lib.outbox.relay import Relay
from course_lib.shop.events import OrderCreated, OrderSubmitted
from course_lib.shop.services import SimulatedCrash


class OutboxLab:
    """An event store with an outbox, a relay to RabbitMQ, and an inbox consumer — and their counters."""

    def __init__(self, name: str, url: str | None = None, *, directory: str | Path | None = None,
                 seed: int = 0) -> None:
        self._tmp = tempfile.TemporaryDirectory() if directory is None else None
        self.directory = Path(directory or self._tmp.name)  # type: ignore[union-attr]
        self.exchange, self.queue = f"{name}-events", f"{name}-consumer"
        # No heartbeats: a notebook sits idle between clicks, and the broker would drop the connection — and with
        # it the exclusive queue. When the kernel goes, however it goes, the queue goes with its connection and
        # the auto-delete exchange with its last binding: nothing is left behind on the broker.
        self._conn = RabbitConnection(url, name=f"outbox-lab-{name}", heartbeat=0)
        channel = self._conn.channel()
        channel.exchange_declare(self.exchange, exchange_type="topic", durable=False, auto_delete=True)
        channel.queue_declare(self.queue, exclusive=True)
        channel.queue_bind(self.queue, self.exchange, routing_key="#")
        channel.close()
        db = self.directory / "shop.db"
        self.store = SQLiteEventStore(db)
        self.outbox = SQLiteOutbox(db)
        self.publisher = RabbitMQPublisher(self.exchange, url)
        self.consumer = CountingConsumer(self.directory / "consumer.db")
        self.random = random.Random(seed)
        self.relay_crashes = 0
        self.orders = 0
        self.closed = False
        self._build_view()

    # -- actions (the buttons call these) -----------------------------------------------------------------

    def place_orders(self, n: int = 3) -> int:
        """Append ``n`` orders (two events each) with their outbox rows in the same transaction."""
        for _ in range(n):
            self.orders += 1
            order = f"{self.orders}"
            self.store.append(f"order-{order}", [OrderCreated(order_id=order, customer_id="c-1"),
                                                 OrderSubmitted(order_id=order, total_cents=1000)],
                              in_transaction=self.outbox.hook)
        self._refresh(f"placed {n} order(s): {2 * n} events and {2 * n} outbox rows, one transaction each")
        return 2 * n

    def run_relay(self) -> int:
        """A healthy relay: publish everything pending."""
        moved = Relay(self.outbox, self.publisher).drain()
        self._refresh(f"relay published {moved} row(s)")
        return moved

    def kill_relay_after_publish(self) -> bool:
        """A relay killed right after its first confirmed publish, before marking that row sent."""

        def die(where: str) -> None:
            if where == "after publish":
                raise SimulatedCrash("relay killed after publish")

        try:
            Relay(self.outbox, self.publisher, crash_hook=die).run_once()
        except SimulatedCrash:
            self.relay_crashes += 1
            self._refresh("relay killed after a publish: that row is still pending and will be published again")
            return True
        self._refresh("nothing pending: the relay had nothing to publish")
        return False

    def chaos(self, relays: int = 20, crash_probability: float = 0.3) -> int:
        """Start up to ``relays`` relays, each killed at random points; returns how many were killed."""
        killed = 0
        for _ in range(relays):
            if self.outbox.counts().pending == 0:
                break

            def maybe_die(where: str) -> None:
                if self.random.random() < crash_probability:
                    raise SimulatedCrash(where)

            try:
                Relay(self.outbox, self.publisher, batch_size=5, crash_hook=maybe_die).drain()
            except SimulatedCrash:
                killed += 1
        self.relay_crashes += killed
        self._refresh(f"chaos: {killed} relay(s) killed at random points")
        return killed

    def deliver(self, timeout: float = 5.0) -> int:
        """Consume what is queued (bounded) and apply each delivery through the inbox."""
        deliveries = consume(self._conn, self.queue, max_messages=10_000, timeout=timeout, idle=0.5)
        for d in deliveries:
            if d.envelope is not None:
                self.consumer.receive(d.envelope)
        self._refresh(f"consumer received {len(deliveries)} deliveries")
        return len(deliveries)

    # -- what the counters show ---------------------------------------------------------------------------

    def counters(self) -> dict[str, int]:
        """Outbox rows written/sent/pending; relay crashes; deliveries, distinct effects, duplicates absorbed."""
        counts = self.outbox.counts()
        effects = self.consumer.effects()
        return {
            "outbox written": counts.written,
            "outbox sent": counts.sent,
            "outbox pending": counts.pending,
            "relay crashes": self.relay_crashes,
            "deliveries": self.consumer.deliveries,
            "effects applied": sum(effects.values()),
            "duplicates absorbed": self.consumer.duplicates_absorbed,
            "events with >1 effect": sum(1 for v in effects.values() if v > 1),
        }

    def written_ids(self) -> set[str]:
        """The message id of every event written through the outbox."""
        return self.outbox.message_ids()

    # -- view ---------------------------------------------------------------------------------------------

    def _build_view(self) -> None:
        def button(label: str, action: object) -> widgets.Button:
            b = widgets.Button(description=label)
            b.on_click(lambda _b: action())  # type: ignore[operator]
            return b

        self.buttons = {
            "place": button("place 3 orders", self.place_orders),
            "relay": button("run relay", self.run_relay),
            "kill": button("kill relay mid-batch", self.kill_relay_after_publish),
            "deliver": button("deliver", self.deliver),
        }
        self.table = widgets.HTML()
        self.log = widgets.Output()
        self.view = widgets.VBox([widgets.HBox(list(self.buttons.values())), self.table, self.log])
        self.view.add_class("course-outbox-lab")
        self.table.add_class("course-outbox-counters")
        self.log.add_class("course-outbox-log")
        self._refresh(None)

    def _refresh(self, line: str | None) -> None:
        rows = "".join(f"<tr><td>{html.escape(k)}</td><td style='text-align:right'><b>{v}</b></td></tr>"
                       for k, v in self.counters().items())
        self.table.value = f"<table>{rows}</table>"
        if line:
            self.log.append_stdout(line + "\n")

    def close(self) -> None:
        """Delete the exchange and queue, close connections, remove temporary files. Safe to call twice."""
        if self.closed:
            return
        self.closed = True
        try:
            channel = self._conn.channel()
            channel.queue_delete(self.queue)
            channel.exchange_delete(self.exchange)
            channel.close()
        finally:
            self.publisher.close()
            self._conn.close()
            self.consumer.close()
            self.outbox.close()
            self.store.close()
            if self._tmp is not None:
                self._tmp.cleanup()


def lab_name() -> str:
    """A name no other run uses (queues and exchanges are shared on the broker)."""
    return f"nb10-{uuid.uuid4().hex[:8]}"
