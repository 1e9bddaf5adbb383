"""The backend-independent suite on the real PostgreSQL server, each test in its own schema (dropped after)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import psycopg
import pytest
from psycopg import sql

from course_lib.errors import ServiceUnavailable
from course_lib.eventstore.postgres import PostgresEventStore, split_schema
from course_lib.eventstore.testing import SQLEventStoreContract, item


class TestPostgresEventStore(SQLEventStoreContract):
    gap_free_positions = False

    @pytest.fixture
    def schema(self, unique_name: Callable[[str], str]) -> str:
        return unique_name("es")

    @pytest.fixture
    def store(self, postgres_url: str, schema: str) -> Iterator[PostgresEventStore]:
        store = PostgresEventStore(postgres_url, schema=schema)
        yield store
        store.drop_schema()
        store.close()

    @pytest.fixture
    def damage(self, postgres_url: str, schema: str) -> Callable[[str, int, str, str], None]:
        def overwrite(stream_id: str, version: int, column: str, text: str) -> None:
            assert column in {"type", "metadata", "data"}
            with psycopg.connect(postgres_url, autocommit=True, connect_timeout=5) as conn:
                conn.execute(
                    sql.SQL("UPDATE {}.events SET {} = %s WHERE stream_id = %s AND version = %s").format(
                        sql.Identifier(schema), sql.Identifier(column)),
                    (text, stream_id, version),
                )
        return overwrite


def test_in_transaction_gets_the_psycopg_connection(postgres_url: str, unique_name: Callable[[str], str]) -> None:
    store = PostgresEventStore(postgres_url, schema=unique_name("es"))
    try:
        table = sql.SQL("{}.outbox").format(sql.Identifier(store.schema))
        store.connection.execute(sql.SQL("CREATE TABLE {} (position BIGINT, type TEXT)").format(table))

        def to_outbox(conn: psycopg.Connection, envelopes: list) -> None:
            with conn.cursor() as cur:
                cur.executemany(sql.SQL("INSERT INTO {} VALUES (%s, %s)").format(table),
                                [(e.metadata.position, e.type) for e in envelopes])

        store.append("order-1", [item(), item()], in_transaction=to_outbox)

        def fail_after_outbox(conn: psycopg.Connection, envelopes: list) -> None:
            to_outbox(conn, envelopes)
            raise RuntimeError("boom")

        with pytest.raises(RuntimeError):
            store.append("order-1", [item()], in_transaction=fail_after_outbox)
        rows = store.connection.execute(sql.SQL("SELECT position, type FROM {} ORDER BY position").format(table))
        assert [r[1] for r in rows.fetchall()] == ["CartItemAdded", "CartItemAdded"]
        assert store.stream_version("order-1") == 2
    finally:
        store.drop_schema()
        store.close()


def test_schema_in_the_url_and_a_clear_error_when_the_server_is_down() -> None:
    assert split_schema("postgresql://u@h:5432/db?schema=shop&sslmode=disable") == (
        "postgresql://u@h:5432/db?sslmode=disable", "shop")
    with pytest.raises(ServiceUnavailable, match=r"127\.0\.0\.1:1") as info:
        PostgresEventStore("postgresql://postgres@127.0.0.1:1/test", connect_timeout=2)
    assert "COURSE_POSTGRES_URL" in str(info.value)


def test_open_store_with_a_postgres_url(postgres_url: str, unique_name: Callable[[str], str]) -> None:
    from course_lib.eventstore import open_store

    schema = unique_name("es")
    store = open_store(f"{postgres_url}?schema={schema}")
    try:
        assert isinstance(store, PostgresEventStore) and store.schema == schema
        store.append("order-1", [item()])
        assert store.stream_version("order-1") == 1
    finally:
        store.drop_schema()
        store.close()


def test_the_id_look_up_of_an_append_is_never_prepared(postgres_url: str, unique_name: Callable[[str], str]) -> None:
    # A prepared statement keeps the plan PostgreSQL chose for it, and the plan it chose for `message_id = ANY(…)`
    # while the table was small read every row: each append then took longer the more events the table held.
    store = PostgresEventStore(postgres_url, schema=unique_name("es"))
    try:
        version = 0
        for n in range(8):  # PostgreSQL settles on a prepared statement's plan after its fifth run
            version = store.append("order-1", [item(sku=f"s{n}-{i}") for i in range(20)], version).stream_version
        prepared = [row[0] for row in store.connection.execute("SELECT statement FROM pg_prepared_statements")]
        assert any("INSERT INTO" in text for text in prepared)  # the store does prepare its statements
        assert not [text for text in prepared if "message_id = ANY" in text]
        assert len(store.read_stream("order-1")) == 160
    finally:
        store.drop_schema()
        store.close()
