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
from collections.abc import Callable
from pathlib import Path
from typing import Any

from course_lib.messages import Envelope
from course_lib.sql import Database, Tx, check_identifier

Effect = Callable[[Any, Envelope[Any]], None]
"""The consumer's work: ``effect(connection, envelope)``, using the inbox's connection and transaction."""

DedupKey = Callable[[Envelope[Any]], str]
"""What identifies "the same message" for the inbox: ``key(envelope) -> str``."""


def by_message_id(env: Envelope[Any]) -> str:
    """The default key: the envelope's message id (catches redeliveries and re-publishes of one message)."""
    return str(env.message_id)


class _Inbox:
    """The inbox's SQL, written once for both databases (``course_lib.sql``)."""

    consumer: str
    key: DedupKey
    table: str
    db: Database
    duplicates: int

    def _create(self) -> None:
        self.db.execute(
            f"CREATE TABLE IF NOT EXISTS {self.table} (consumer TEXT NOT NULL, message_id TEXT NOT NULL, "
            "PRIMARY KEY (consumer, message_id))"
        )

    def handle(self, env: Envelope[Any], effect: Effect) -> bool:
        """Apply ``effect`` once per key (the message id by default). True when applied, False for a duplicate."""
        with self.db.transaction(Tx) as tx:
            tx.execute(f"INSERT INTO {self.table} (consumer, message_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
                       (self.consumer, self.key(env)))
            if tx.rowcount == 0:  # seen before: the (empty) transaction commits, the effect does not run
                self.duplicates += 1
                return False
            effect(tx.connection, env)
        return True

    def processed(self) -> int:
        """How many distinct keys (messages, by default) this consumer has processed."""
        rows = self.db.execute(f"SELECT count(*) FROM {self.table} WHERE consumer = ?", (self.consumer,))
        return int(rows[0][0])

    def close(self) -> None:
        self.db.close()


class SQLiteInbox(_Inbox):
    """Processed message keys per consumer, in SQLite, next to the consumer's own tables."""

    def __init__(self, path: str | Path, consumer: str, table: str = "inbox", *,
                 key: DedupKey = by_message_id) -> None:
        self.path = str(path)
        self.consumer = consumer
        self.key = key
        self.table = check_identifier(table)
        self.db = Database.sqlite(self.path)
        self._create()
        self.duplicates = 0

    @property
    def connection(self) -> sqlite3.Connection:
        """The inbox's connection: create the consumer's tables with it, read its results with it."""
        conn: sqlite3.Connection = self.db.connection
        return conn


class PostgresInbox(_Inbox):
    """Processed message keys per consumer, in PostgreSQL."""

    def __init__(self, url: str, consumer: str, table: str = "inbox", *, key: DedupKey = by_message_id) -> None:
        self.consumer = consumer
        self.key = key
        self.table = check_identifier(table)
        self.db = Database.postgres(url)
        self._create()
        self.duplicates = 0

    @property
    def connection(self) -> Any:
        """The inbox's connection (psycopg)."""
        return self.db.connection

    def drop(self) -> None:
        """Delete the table (tests and notebooks clean up)."""
        self.db.execute(f"DROP TABLE IF EXISTS {self.table}")
