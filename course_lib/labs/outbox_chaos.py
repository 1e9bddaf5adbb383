"""A chaos drill for the outbox: kill the relay at random points, many times, and count what arrives.

``kill_relay_repeatedly`` runs relays against one outbox; each relay is killed (``SimulatedCrash``) with a
seeded probability at each of its crash points — before a publish, after the broker confirmed but before the row
was marked sent, after marking — and replaced by a fresh one (new connection, nothing remembered), until the
outbox is empty. ``CountingConsumer`` applies each delivery through an inbox and counts effects per message id,
so the drill can assert: every event delivered, every effect applied exactly once.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from course_lib.errors import CourseError
from course_lib.messages import Envelope
from course_lib.outbox.inbox import SQLiteInbox
from course_lib.outbox.relay import OutboxStore, Publisher, Relay
from course_lib.shop.services import SimulatedCrash


@dataclass
class ChaosStats:
    """What the drill did to the relays."""

    crashes: int = 0
    relays_started: int = 0
    publish_calls: int = 0
    crash_points: dict[str, int] = field(default_factory=dict)


def kill_relay_repeatedly(
    open_outbox: Callable[[], OutboxStore],
    publisher: Publisher,
    *,
    seed: int,
    crash_probability: float = 0.2,
    batch_size: int = 10,
    max_relays: int = 10_000,
    on_restart: Callable[[ChaosStats], None] | None = None,
) -> ChaosStats:
    """Run relays until the outbox is empty, killing each at random points. Returns what happened."""
    rng = random.Random(seed)
    stats = ChaosStats()

    def maybe_die(where: str) -> None:
        if where == "before publish":
            stats.publish_calls += 1
        if rng.random() < crash_probability:
            stats.crashes += 1
            stats.crash_points[where] = stats.crash_points.get(where, 0) + 1
            raise SimulatedCrash(f"relay killed {where}")

    while True:
        if stats.relays_started >= max_relays:
            raise CourseError(f"the outbox was not empty after {max_relays} relays; lower crash_probability")
        outbox = open_outbox()  # a new process: a fresh connection, no memory of the last relay
        stats.relays_started += 1
        try:
            relay = Relay(outbox, publisher, batch_size=batch_size, crash_hook=maybe_die)
            while relay.run_once():
                pass
            if outbox.counts().pending == 0:
                return stats
        except SimulatedCrash:
            if on_restart is not None:
                on_restart(stats)
        finally:
            close = getattr(outbox, "close", None)
            if close is not None:
                close()


class CountingConsumer:
    """Applies deliveries through an inbox; the effect adds 1 to a per-message counter in the same transaction.

    With ``use_inbox=False`` the effect is applied on every delivery — to show what duplicates do without it.
    """

    def __init__(self, path: str | Path, consumer: str = "ledger", *, use_inbox: bool = True) -> None:
        self.inbox = SQLiteInbox(path, consumer)
        self.use_inbox = use_inbox
        self.deliveries = 0
        conn = self.inbox.connection
        conn.execute("CREATE TABLE IF NOT EXISTS effects (message_id TEXT PRIMARY KEY, applied INTEGER NOT NULL)")

    @staticmethod
    def _effect(conn: Any, env: Envelope[Any]) -> None:
        conn.execute("INSERT INTO effects (message_id, applied) VALUES (?, 1) "
                     "ON CONFLICT (message_id) DO UPDATE SET applied = applied + 1", (str(env.message_id),))

    def receive(self, env: Envelope[Any]) -> bool:
        """Handle one delivery; True when its effect was applied."""
        self.deliveries += 1
        if self.use_inbox:
            return self.inbox.handle(env, self._effect)
        conn = self.inbox.connection
        conn.execute("BEGIN IMMEDIATE")
        self._effect(conn, env)
        conn.execute("COMMIT")
        return True

    def effects(self) -> dict[str, int]:
        """How many times each message's effect was applied."""
        return dict(self.inbox.connection.execute("SELECT message_id, applied FROM effects").fetchall())

    @property
    def duplicates_absorbed(self) -> int:
        return self.inbox.duplicates

    def close(self) -> None:
        self.inbox.close()


@dataclass(frozen=True)
class Verdict:
    """Lost and duplicated effects, compared with the ids that were written."""

    expected: int
    applied: int
    lost: int
    duplicated: int

    @property
    def ok(self) -> bool:
        return self.lost == 0 and self.duplicated == 0


def verdict(written_ids: set[str], effects: dict[str, int]) -> Verdict:
    """Compare the written message ids with the effects applied."""
    lost = len(written_ids - set(effects))
    duplicated = sum(1 for count in effects.values() if count > 1)
    return Verdict(len(written_ids), sum(effects.values()), lost, duplicated)


def run_drill(*, orders: int = 50, seed: int = 1, crash_probability: float = 0.15,
              url: str | None = None) -> tuple[ChaosStats, Verdict, int]:
    """The whole drill against the real RabbitMQ: write orders, kill relays, consume through an inbox.

    Returns the crash statistics, the verdict and the number of deliveries. Everything it declares is removed.
    """
    import tempfile
    import uuid

    from course_lib.eventstore.sqlite import SQLiteEventStore
    from course_lib.messaging.rabbitmq import RabbitConnection, consume
    from course_lib.outbox.outbox import SQLiteOutbox
    from course_lib.outbox.publishers import RabbitMQPublisher
    from course_lib.shop.events import OrderCreated, OrderSubmitted

    name = f"chaos-drill-{uuid.uuid4().hex[:8]}"
    conn = RabbitConnection(url, name=name, heartbeat=0)
    channel = conn.channel()
    channel.exchange_declare(name, exchange_type="topic", durable=False, auto_delete=True)
    channel.queue_declare(name, exclusive=True)  # goes away with this connection, whatever happens
    channel.queue_bind(name, name, routing_key="#")
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "shop.db"
        store, outbox = SQLiteEventStore(db), SQLiteOutbox(db)
        for n in range(orders):
            store.append(f"order-{n}", [OrderCreated(order_id=str(n), customer_id="c"),
                                        OrderSubmitted(order_id=str(n), total_cents=n)], in_transaction=outbox.hook)
        written = outbox.message_ids()
        store.close()
        outbox.close()
        publisher = RabbitMQPublisher(name, url)
        try:
            stats = kill_relay_repeatedly(lambda: SQLiteOutbox(db), publisher, seed=seed,
                                          crash_probability=crash_probability)
        finally:
            publisher.close()
        consumer = CountingConsumer(Path(tmp) / "consumer.db")
        deliveries = consume(conn, name, max_messages=1_000_000, timeout=30, idle=1.0)
        for d in deliveries:
            if d.envelope is not None:
                consumer.receive(d.envelope)
        result = verdict(written, consumer.effects())
        consumer.close()
    channel = conn.channel()
    channel.queue_delete(name)
    channel.exchange_delete(name)
    conn.close()
    return stats, result, len(deliveries)


def main(argv: list[str] | None = None) -> int:
    """``python -m course_lib.labs.outbox_chaos [--orders N] [--seed S] [--crash-probability P]``."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m course_lib.labs.outbox_chaos", description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--crash-probability", type=float, default=0.15)
    args = parser.parse_args(argv)
    stats, result, deliveries = run_drill(orders=args.orders, seed=args.seed,
                                          crash_probability=args.crash_probability)
    print(f"events written:      {result.expected}")
    print(f"relays started:      {stats.relays_started}")
    print(f"injected crashes:    {stats.crashes}  {stats.crash_points}")
    print(f"deliveries:          {deliveries}  ({deliveries - result.expected} duplicates)")
    print(f"effects applied:     {result.applied}")
    print(f"lost:                {result.lost}")
    print(f"duplicated effects:  {result.duplicated}")
    print("OK: every event delivered, every effect applied exactly once" if result.ok else "FAILED")
    return 0 if result.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
