"""A payment ledger consumed from RabbitMQ, for notebook 06's kill -9 drill: the idempotent-consumer idea in
miniature (the reusable inbox is ``course_lib.outbox.inbox``).

A ledger of processed message ids, written in the same transaction as the effect.

At-least-once delivery means a message can arrive twice: a consumer that did the work but died before its ack
gets the message redelivered. Recording ``message_id`` together with the effect (here: a payment amount) in one
SQLite transaction makes the second delivery a no-op, so the *result* counts each message exactly once.

Run as a process (the kill -9 demo and test use this)::

    python -m course_lib.labs.ledger --queue payments --db /tmp/ledger.db --work-ms 5
"""

from __future__ import annotations

import argparse
import os
import signal
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import course_lib.shop.events  # noqa: F401  (registers the shop's events so payments can be decoded)
from course_lib import sql
from course_lib.messaging.rabbitmq.wire import Delivery
from course_lib.messaging.rabbitmq.worker import Worker


class Ledger:
    """Processed message ids with their effect, and a log of every delivery attempt (SQLite, process-safe)."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        with self._db() as db:
            db.execute("CREATE TABLE IF NOT EXISTS processed (message_id TEXT PRIMARY KEY, amount INTEGER NOT NULL)")
            db.execute("CREATE TABLE IF NOT EXISTS attempts (message_id TEXT NOT NULL, redelivered INTEGER NOT NULL,"
                       " pid INTEGER NOT NULL)")

    def _db(self) -> sqlite3.Connection:
        return sql.connect_sqlite(self.path, timeout=10)

    def record(self, message_id: str, amount: int, *, redelivered: bool = False) -> bool:
        """Apply the effect once: True the first time ``message_id`` is seen, False for a duplicate."""
        db = self._db()
        try:
            db.execute("BEGIN IMMEDIATE")
            db.execute("INSERT INTO attempts VALUES (?, ?, ?)", (message_id, int(redelivered), _pid()))
            cursor = db.execute("INSERT OR IGNORE INTO processed VALUES (?, ?)", (message_id, amount))
            db.execute("COMMIT")
            return cursor.rowcount == 1
        finally:
            db.close()

    def _one(self, sql: str) -> int:
        db = self._db()
        try:
            return int(db.execute(sql).fetchone()[0] or 0)
        finally:
            db.close()

    def processed(self) -> int:
        """How many distinct messages took effect."""
        return self._one("SELECT COUNT(*) FROM processed")

    def total(self) -> int:
        """The sum of the effects (each message counted once)."""
        return self._one("SELECT SUM(amount) FROM processed")

    def attempts(self) -> int:
        """How many times a handler ran (duplicates included)."""
        return self._one("SELECT COUNT(*) FROM attempts")

    def redelivered_attempts(self) -> int:
        """How many handler runs saw ``redelivered=True``."""
        return self._one("SELECT COUNT(*) FROM attempts WHERE redelivered = 1")

    def duplicates(self) -> int:
        """Handler runs whose message had already taken effect (absorbed by the ledger)."""
        return self.attempts() - self.processed()


def _pid() -> int:
    return os.getpid()


def ledger_handler(ledger: Ledger, work_seconds: float = 0.0) -> Any:
    """A handler that 'works' for ``work_seconds`` then records the payment amount in ``ledger`` idempotently."""

    def handle(delivery: Delivery) -> None:
        if work_seconds:
            time.sleep(work_seconds)  # simulated work, so that messages are in flight when the process dies
        message = delivery.message
        amount = int(getattr(message, "amount_cents", 0))
        ledger.record(str(delivery.properties.message_id), amount, redelivered=delivery.redelivered)

    return handle


def main(argv: list[str] | None = None) -> int:
    """Consume ``--queue`` into ``--db`` until SIGTERM/SIGINT or ``--max-seconds`` (a safety bound)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queue", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--url", default=None)
    parser.add_argument("--prefetch", type=int, default=10)
    parser.add_argument("--work-ms", type=float, default=0.0)
    parser.add_argument("--max-seconds", type=float, default=120.0)
    args = parser.parse_args(argv)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    ledger = Ledger(args.db)
    worker = Worker(args.queue, ledger_handler(ledger, args.work_ms / 1000), url=args.url, prefetch=args.prefetch,
                    name=f"ledger-{args.queue}").start()
    print("consuming", flush=True)
    done.wait(args.max_seconds)
    worker.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
