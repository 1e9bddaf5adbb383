"""Wrong answers to notebook 10's exercises — the relay loop, and the inbox handed over broken (as given, then
plausible repairs that are still wrong)."""

from __future__ import annotations

import sqlite3
from typing import Any

from course_lib.messages import Envelope
from course_lib.outbox import SQLiteInbox
from course_lib.outbox.relay import OutboxStore, Publisher
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
    """Credit a payment to its order, once per message id."""
    # the notebook's broken version, as given: the inbox row commits on its own, before the credit
    conn = inbox.connection  # autocommit: each statement below commits on its own
    message_id = str(env.message_id)
    seen = conn.execute("SELECT 1 FROM inbox WHERE consumer = ? AND message_id = ?",
                        (inbox.consumer, message_id)).fetchone()
    if seen:
        return  # a duplicate: processed before
    conn.execute("INSERT INTO inbox (consumer, message_id) VALUES (?, ?)", (inbox.consumer, message_id))
    conn.execute("INSERT INTO received (order_id, cents) VALUES (?, ?) "
                 "ON CONFLICT (order_id) DO UPDATE SET cents = cents + excluded.cents",
                 (env.message.order_id, env.message.amount_cents))


def credit_then_remember(inbox: SQLiteInbox, env: Envelope[Any]) -> None:
    """The repair that swaps the two writes: still two commits, now a crash between them credits twice."""
    conn = inbox.connection
    message_id = str(env.message_id)
    if conn.execute("SELECT 1 FROM inbox WHERE consumer = ? AND message_id = ?",
                    (inbox.consumer, message_id)).fetchone():
        return
    _credit(conn, env)
    conn.execute("INSERT INTO inbox (consumer, message_id) VALUES (?, ?)", (inbox.consumer, message_id))


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


def marks_before_publish(outbox: OutboxStore, publisher: Publisher) -> int:
    published = 0
    for row in outbox.pending():
        outbox.mark_sent([row.id])  # marked before the confirm: a refused publish loses the row
        publisher.publish(row.envelope())
        published += 1
    return published


def swallows_and_marks(outbox: OutboxStore, publisher: Publisher) -> int:
    published = 0
    for row in outbox.pending():
        try:
            publisher.publish(row.envelope())
            published += 1
        except Exception:
            pass  # "logged"; the row is marked sent anyway
        outbox.mark_sent([row.id])
    return published


def skips_the_failed_row(outbox: OutboxStore, publisher: Publisher) -> int:
    published = 0
    for row in outbox.pending():
        try:
            publisher.publish(row.envelope())
        except Exception:
            continue  # retried next round — but the rows after it go out first
        outbox.mark_sent([row.id])
        published += 1
    return published


def marks_the_batch_at_the_end(outbox: OutboxStore, publisher: Publisher) -> int:
    rows = outbox.pending()
    for row in rows:
        publisher.publish(row.envelope())
    outbox.mark_sent([row.id for row in rows])
    return len(rows)


def retries_until_confirmed(outbox: OutboxStore, publisher: Publisher) -> int:
    published = 0
    for row in outbox.pending():
        while True:
            try:
                publisher.publish(row.envelope())
                break
            except Exception:
                continue  # try again at once
        outbox.mark_sent([row.id])
        published += 1
    return published


def one_row_per_round(outbox: OutboxStore, publisher: Publisher) -> int:
    for row in outbox.pending(1):
        publisher.publish(row.envelope())
        outbox.mark_sent([row.id])
        return 1
    return 0


def returns_nothing(outbox: OutboxStore, publisher: Publisher) -> None:
    for row in outbox.pending():
        publisher.publish(row.envelope())
        outbox.mark_sent([row.id])


WRONG = {
    "relay_once": [
        Wrong("marks a row sent before the broker confirmed it", marks_before_publish),
        Wrong("swallows the failed publish and marks the row sent anyway", swallows_and_marks),
        Wrong("skips the failed row and carries on with the next", skips_the_failed_row),
        Wrong("marks the whole batch sent only at the end", marks_the_batch_at_the_end),
        Wrong("retries the failed publish at once, over and over", retries_until_confirmed),
        Wrong("one row per round", one_row_per_round),
        Wrong("returns nothing", returns_nothing),
    ],
    "credit_payment": [
        Wrong("as given: check-then-act, the inbox row commits before the effect", check_then_act),
        Wrong("repair by swapping: the credit commits, then the inbox row", credit_then_remember),
        Wrong("no deduplication", no_dedup),
        Wrong("deduplicates by order id", dedup_by_order),
        Wrong("the effect runs after the inbox transaction", effect_after_handle),
        Wrong("INSERT OR REPLACE drops the first payment of an order", insert_or_replace),
        Wrong("the second payment overwrites the first", overwrites),
        Wrong("ids kept in memory, apart from the effect", dedup_in_memory),
    ],
}

GIVEAWAYS = {
    "relay_once": ("publisher.publish(row.envelope())\n        outbox.mark_sent",),
    "credit_payment": ("inbox.handle(env, credit)",),
}
