"""The inbox, or idempotent consumer: remember each processed message's key in the same transaction as the effect.

At-least-once delivery means duplicates: a relay that died before marking a row sent, a consumer that died
before acking. The inbox makes the second delivery harmless — its insert of the key conflicts, the transaction
does nothing, and the handler reports a duplicate. Because the key and the effect commit together, there is no
window in which one is stored without the other.

Which key? By default the **message id**: it recognises a redelivery or a re-publish of the *same* message. It does
not recognise the same intent sent as a *new* message — a client that re-sends a command after a timeout, an
event rebuilt from the store with a fresh id: those need a **business idempotency key** chosen by the sender
before its first attempt (a payment id, ``<saga id>/<step>``), passed as ``key=``. Never a key that legitimately
repeats: an order id would swallow the second, real payment of the same order.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from course_lib import pg, sqlitedb
from course_lib.messages import Envelope

Effect = Callable[[Any, Envelope[Any]], None]
"""The consumer's work: ``effect(connection, envelope)``, using the inbox's connection and transaction."""

DedupKey = Callable[[Envelope[Any]], str]
"""What identifies "the same message" for the inbox: ``key(envelope) -> str``."""


def by_message_id(env: Envelope[Any]) -> str:
    """The default key: the envelope's message id (catches redeliveries and re-publishes of one message)."""
    return str(env.message_id)


def _check(name: str, what: str) -> str:
    if not name.isidentifier():
        raise ValueError(f"{what} must be a plain identifier, got {name!r}")
    return name


class SqliteInbox:
    """Processed message keys per consumer, in SQLite, next to the consumer's own tables."""

    def __init__(self, path: str | Path, consumer: str, table: str = "inbox", *,
                 key: DedupKey = by_message_id) -> None:
        self.path = str(path)
        self.consumer = consumer
        self.key = key
        self.table = _check(table, "table")
        self._lock = threading.Lock()
        self._conn = sqlitedb.connect(self.path)
        self._conn.execute(
            f"CREATE TABLE IF NOT EXISTS {self.table} (consumer TEXT NOT NULL, message_id TEXT NOT NULL, "
            "PRIMARY KEY (consumer, message_id))"
        )
        self.duplicates = 0

    @property
    def connection(self) -> sqlite3.Connection:
        """The inbox's connection: create the consumer's tables with it, read its results with it."""
        return self._conn

    def handle(self, env: Envelope[Any], effect: Effect) -> bool:
        """Apply ``effect`` once per key (the message id by default). True when applied, False for a duplicate."""
        with self._lock:
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                cur = conn.execute(
                    f"INSERT INTO {self.table} (consumer, message_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
                    (self.consumer, self.key(env)),
                )
                if cur.rowcount == 0:
                    conn.execute("ROLLBACK")
                    self.duplicates += 1
                    return False
                effect(conn, env)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        return True

    def processed(self) -> int:
        """How many distinct keys (messages, by default) this consumer has processed."""
        with self._lock:
            row = self._conn.execute(f"SELECT count(*) FROM {self.table} WHERE consumer = ?",
                                     (self.consumer,)).fetchone()
        return int(row[0])

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class PostgresInbox:
    """Processed message keys per consumer, in PostgreSQL."""

    def __init__(self, url: str, consumer: str, table: str = "inbox", *, key: DedupKey = by_message_id) -> None:
        self.consumer = consumer
        self.key = key
        self.table = _check(table, "table")
        self._lock = threading.Lock()
        self._conn = pg.connect(url)
        self._conn.execute(
            f"CREATE TABLE IF NOT EXISTS {self.table} (consumer TEXT NOT NULL, message_id TEXT NOT NULL, "
            "PRIMARY KEY (consumer, message_id))"
        )
        self.duplicates = 0

    @property
    def connection(self) -> Any:
        return self._conn

    def handle(self, env: Envelope[Any], effect: Effect) -> bool:
        """Apply ``effect`` once per key (the message id by default). True when applied, False for a duplicate."""
        with self._lock, self._conn.transaction():
            cur = self._conn.execute(
                f"INSERT INTO {self.table} (consumer, message_id) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                (self.consumer, self.key(env)),
            )
            if cur.rowcount == 0:
                self.duplicates += 1
                return False
            effect(self._conn, env)
        return True

    def processed(self) -> int:
        with self._lock:
            row = self._conn.execute(f"SELECT count(*) FROM {self.table} WHERE consumer = %s",
                                     (self.consumer,)).fetchone()
        assert row is not None
        return int(row[0])

    def drop(self) -> None:
        with self._lock:
            self._conn.execute(f"DROP TABLE IF EXISTS {self.table}")

    def close(self) -> None:
        with self._lock:
            self._conn.close()
