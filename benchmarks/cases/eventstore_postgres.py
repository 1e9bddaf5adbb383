"""The PostgreSQL event store side by side with raw psycopg doing the same work on the same server.

Both write to a fresh schema of the server at ``COURSE_POSTGRES_URL`` (dropped when the process exits), with the
server's default durability (``synchronous_commit=on``: every commit is flushed before it returns). Work measured,
as in ``eventstore.py``:

- ``append_batch100``: 100 events per transaction, each append with an expected version;
- ``read_all``: every event in global order, in pages of 1,000, decoded into event objects
  (raw psycopg: rows decoded with ``json.loads`` — the floor);
- ``load_1000`` / ``load_1000_snapshot``: rebuild a 1,000-event aggregate, without / with a snapshot at its end.

Raw psycopg inserts with ``executemany`` (pipelined) into a table with the same columns minus the metadata and the
unique message id, reads with one statement per page, and folds dicts: no validation, no concurrency check, no
envelope. course_lib validates every event both ways (see ``course_lib/eventstore/encoding.py`` and
``decoding.py``) and checks the expected version inside each append's transaction.
"""

from __future__ import annotations

import atexit
import json
import uuid
from collections.abc import Callable
from functools import cache
from typing import Any

from benchmarks.cases.eventstore import (
    LOAD_EVENTS,
    _sizes,
    big_order_rows,
    course_appends,
    course_loads,
    course_read_all,
    fill_course_store,
    fill_raw_table,
    loads_per_run,
    raw_appends,
    raw_loads,
    raw_read_all,
    save_big_order,
)
from benchmarks.runner import Case, Group, Measurement, timed
from course_lib import pg
from course_lib.config import get_settings
from course_lib.eventstore.postgres import PostgresEventStore

_LABELS = ("course_lib", "raw psycopg")
_schemas: list[str] = []


def _url() -> str:
    return get_settings().postgres_url


@cache
def _admin() -> Any:
    """One connection that creates the raw schemas and drops every schema of this process at exit."""
    conn = pg.connect(_url())
    atexit.register(_drop_all, conn)
    return conn


def _drop_all(conn: Any) -> None:
    from psycopg import sql

    for schema in _schemas:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
    conn.close()


def _fresh_schema(name: str) -> str:
    schema = f"bench_{name}_{uuid.uuid4().hex[:8]}"
    _admin()  # registers the clean-up before the first schema exists
    _schemas.append(schema)
    return schema


def _course_store(schema: str) -> PostgresEventStore:
    return PostgresEventStore(_url(), schema=schema)


def _raw_connect(schema: str) -> Any:
    """A raw psycopg connection whose search_path is a new schema holding the floor's two tables."""
    from psycopg import sql

    conn = pg.connect(_url())
    conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
    conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
    conn.execute("CREATE TABLE IF NOT EXISTS events (position BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
                 "stream_id TEXT NOT NULL, version INTEGER NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL, "
                 "UNIQUE (stream_id, version))")
    conn.execute("CREATE TABLE IF NOT EXISTS snapshots (stream_id TEXT PRIMARY KEY, version INTEGER, state TEXT)")
    return conn


def _raw_insert(conn: Any, stream_id: str, start_version: int, payloads: list[dict[str, Any]]) -> None:
    rows = [(stream_id, start_version + i, "OrderItemAdded", json.dumps(p)) for i, p in enumerate(payloads)]
    with conn.transaction(), conn.cursor() as cur:
        cur.executemany("INSERT INTO events (stream_id, version, type, data) VALUES (%s, %s, %s, %s)", rows)


# --- appends --------------------------------------------------------------------------------------------------

def _append(label: str) -> Callable[[bool], Measurement]:
    def run(quick: bool) -> Measurement:
        n, schema = _sizes(quick)["batches"], _fresh_schema("append")
        return _timed_on(label, schema, lambda store: course_appends(store, n, 100),
                         lambda conn: raw_appends(lambda s, first, chunk: _raw_insert(conn, s, first, chunk), n, 100))

    return run


# --- reads and loads (data written once per process, outside the timing) --------------------------------------

@cache
def _read_fixture(label: str, n: int) -> str:
    schema = _fresh_schema(f"read_{label.split()[0]}")
    if label == "course_lib":
        with _course_store(schema) as store:
            fill_course_store(store, n)
    else:
        conn = _raw_connect(schema)
        fill_raw_table(lambda stream_id, first, payloads: _raw_insert(conn, stream_id, first, payloads), n)
        conn.close()
    return schema


@cache
def _load_fixture(label: str) -> str:
    schema = _fresh_schema(f"load_{label.split()[0]}")
    if label == "course_lib":
        with _course_store(schema) as store:
            save_big_order(store)
    else:
        conn = _raw_connect(schema)
        payloads, state = big_order_rows()
        _raw_insert(conn, "order-big", 1, payloads)
        conn.execute("INSERT INTO snapshots VALUES (%s, %s, %s)", ("order-big", LOAD_EVENTS, state))
        conn.close()
    return schema


def _timed_on(label: str, schema: str, course: Callable[[Any], Measurement],
              raw: Callable[[Any], Measurement]) -> Measurement:
    """Run ``course(store)`` or ``raw(connection)`` (each times its own work) on the schema, by the case's label."""
    if label == "course_lib":
        with _course_store(schema) as store:
            return course(store)
    conn = _raw_connect(schema)
    try:
        return raw(conn)
    finally:
        conn.close()


def _read_all(label: str) -> Callable[[bool], Measurement]:
    def run(quick: bool) -> Measurement:
        n = _sizes(quick)["read"]
        measurement = _timed_on(label, _read_fixture(label, n), lambda store: timed(lambda: course_read_all(store)),
                                lambda conn: timed(lambda: raw_read_all(conn, "%s")))
        if measurement.items != n:
            raise RuntimeError(f"{label} read {measurement.items} events, expected {n}")
        return measurement

    return run


def _load(label: str, snapshot: bool) -> Callable[[bool], Measurement]:
    def run(quick: bool) -> Measurement:
        loads = loads_per_run(quick, snapshot)
        return _timed_on(label, _load_fixture(label), lambda store: timed(lambda: course_loads(store, loads, snapshot)),
                         lambda conn: timed(lambda: raw_loads(conn, loads, snapshot, "%s")))

    return run


_NOTE = ("PostgreSQL at COURSE_POSTGRES_URL, synchronous_commit as the server sets it, the same for both. Target: "
         "course_lib within 2x of raw psycopg (ratio >= 0.5). raw psycopg does no validation, no concurrency "
         "check and no object decoding beyond json.loads: it is the floor, not a usable event store.")


def _group(name: str, unit: str, make: Callable[[str], Callable[[bool], Measurement]], notes: str,
           target: float | None = 0.5) -> Group:
    return Group(name=name, unit=unit, cases=[Case(label, make(label)) for label in _LABELS],
                 baseline="raw psycopg", target=target, notes=f"{notes} {_NOTE}")


GROUPS = [
    _group("eventstore.postgres.append_batch100", "events", _append,
           "100 events per transaction (no stated target: reported against the floor).", target=None),
    _group("eventstore.postgres.read_all", "events", _read_all, "All events in global order, pages of 1,000."),
    _group("eventstore.postgres.load_1000", "loads", lambda label: _load(label, False),
           "Rebuild a 1,000-event aggregate by replaying every event."),
    _group("eventstore.postgres.load_1000_snapshot", "loads", lambda label: _load(label, True),
           "Rebuild the same aggregate from a snapshot taken at its last version."),
]
