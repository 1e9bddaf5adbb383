"""Wrong answers to notebook 10's exercise — including the check-then-act inbox that commits before the effect."""

from __future__ import annotations

import sqlite3
from typing import Any

from course_lib.messages import Envelope
from course_lib.outbox import SQLiteInbox
from solutions.wrong import Wrong

_ADD = ("INSERT INTO received (order_id, cents) VALUES (?, ?) "
        "ON CONFLICT (order_id) DO UPDATE SET cents = cents + excluded.cents")


def _credit(conn: sqlite3.Connection, env: Envelope[Any]) -> None:
    conn.execute(_ADD, (env.message.order_id, env.message.amount_cents))


def no_dedup(inbox: SQLiteInbox, env: Envelope[Any]) -> None:
    _credit(inbox.connection, env)


def dedup_by_order(inbox: SQLiteInbox, env: Envelope[Any]) -> None:
    conn = inbox.connection
    conn.execute("CREATE TABLE IF NOT EXISTS credited (order_id TEXT PRIMARY KEY)")
    if conn.execute("SELECT 1 FROM credited WHERE order_id = ?", (env.message.order_id,)).fetchone():
        return
    conn.execute("INSERT INTO credited (order_id) VALUES (?)", (env.message.order_id,))
    _credit(conn, env)


def check_then_act(inbox: SQLiteInbox, env: Envelope[Any]) -> None:
    """Looks up the id, records it (committed on its own), then credits: a failed credit is never retried."""
    conn = inbox.connection
    seen = conn.execute(f"SELECT 1 FROM {inbox.table} WHERE consumer = ? AND message_id = ?",
                        (inbox.consumer, str(env.message_id))).fetchone()
    if seen:
        return
    conn.execute(f"INSERT INTO {inbox.table} (consumer, message_id) VALUES (?, ?)",
                 (inbox.consumer, str(env.message_id)))
    _credit(conn, env)


def effect_after_handle(inbox: SQLiteInbox, env: Envelope[Any]) -> None:
    """The inbox transaction commits an empty effect; the credit runs afterwards, outside it."""
    if inbox.handle(env, lambda conn, e: None):
        _credit(inbox.connection, env)


def insert_or_replace(inbox: SQLiteInbox, env: Envelope[Any]) -> None:
    def credit(conn: sqlite3.Connection, e: Envelope[Any]) -> None:
        conn.execute("INSERT OR REPLACE INTO received (order_id, cents) VALUES (?, ?)",
                     (e.message.order_id, e.message.amount_cents))

    inbox.handle(env, credit)


def overwrites(inbox: SQLiteInbox, env: Envelope[Any]) -> None:
    def credit(conn: sqlite3.Connection, e: Envelope[Any]) -> None:
        conn.execute("INSERT INTO received (order_id, cents) VALUES (?, ?) "
                     "ON CONFLICT (order_id) DO UPDATE SET cents = excluded.cents",
                     (e.message.order_id, e.message.amount_cents))

    inbox.handle(env, credit)


def dedup_in_memory(inbox: SQLiteInbox, env: Envelope[Any]) -> None:
    """Remembers ids in a Python set on the inbox: correct until a crash, and the inbox knows nothing."""
    seen: set[str] = inbox.__dict__.setdefault("seen_ids", set())
    if str(env.message_id) in seen:
        return
    seen.add(str(env.message_id))
    _credit(inbox.connection, env)


WRONG = {"credit_payment": [
    Wrong("no deduplication", no_dedup),
    Wrong("deduplicates by order id", dedup_by_order),
    Wrong("check-then-act: the inbox row commits before the effect", check_then_act),
    Wrong("the effect runs after the inbox transaction", effect_after_handle),
    Wrong("INSERT OR REPLACE drops the first payment of an order", insert_or_replace),
    Wrong("the second payment overwrites the first", overwrites),
    Wrong("ids kept in memory, apart from the effect", dedup_in_memory),
]}

GIVEAWAYS = {"credit_payment": ("cents = cents + excluded.cents", "inbox.handle(env, credit)")}
