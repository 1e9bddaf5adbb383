"""Fixtures for projections on real PostgreSQL: a fresh event-store schema, read-model schema and extra writers."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from course_lib.eventstore.postgres import PostgresEventStore
from course_lib.projections import PostgresReadModels


def schema_name(unique_name: Callable[[str], str], prefix: str) -> str:
    """A unique PostgreSQL schema name (``unique_name`` uses dashes; schema names here use underscores)."""
    return unique_name(prefix).replace("-", "_")


@pytest.fixture
def pg_store(postgres_url: str, unique_name: Callable[[str], str]) -> Iterator[PostgresEventStore]:
    store = PostgresEventStore(postgres_url, schema=schema_name(unique_name, "events"))
    yield store
    store.drop_schema()
    store.close()


@pytest.fixture
def pg_read_models(postgres_url: str, unique_name: Callable[[str], str]) -> Iterator[PostgresReadModels]:
    read_models = PostgresReadModels(postgres_url, schema=schema_name(unique_name, "rm"))
    yield read_models
    read_models.drop_schema()
    read_models.close()


@pytest.fixture
def another_writer(pg_store: PostgresEventStore) -> Iterator[Callable[[], PostgresEventStore]]:
    """Open more stores on ``pg_store``'s schema, each with its own connection — other writers, in effect."""
    opened: list[PostgresEventStore] = []

    def make() -> PostgresEventStore:
        opened.append(PostgresEventStore(pg_store.url, schema=pg_store.schema))
        return opened[-1]

    yield make
    for store in opened:
        store.close()
