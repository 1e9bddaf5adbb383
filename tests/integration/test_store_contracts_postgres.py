"""The PostgreSQL twins pass the same contracts as the SQLite ones: outbox, inbox, saga log, read models.

Every table (and the read models' schema) has a unique name and is dropped afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from course_lib.outbox import PostgresInbox, PostgresOutbox
from course_lib.outbox.testing import InboxContract, OutboxContract
from course_lib.projections import PostgresReadModels
from course_lib.projections.testing import ReadModelStoreContract
from course_lib.sagas import PostgresSagaLog
from course_lib.sagas.testing import SagaLogContract
from course_lib.sql import Database


def _table(unique_name: Callable[[str], str], prefix: str) -> str:
    return unique_name(prefix).replace("-", "_")[:60]


class TestPostgresOutbox(OutboxContract):
    @pytest.fixture
    def outbox(self, postgres_url: str, unique_name: Callable[[str], str]) -> Iterator[PostgresOutbox]:
        outbox = PostgresOutbox(postgres_url, _table(unique_name, "outbox"))
        yield outbox
        outbox.drop()
        outbox.close()


class TestPostgresInbox(InboxContract):
    @pytest.fixture
    def effects_table(self, postgres_url: str, unique_name: Callable[[str], str]) -> Iterator[str]:
        table = _table(unique_name, "effects")
        yield table
        db = Database.postgres(postgres_url)
        db.execute(f"DROP TABLE IF EXISTS {table}")
        db.close()

    @pytest.fixture
    def make_inbox(
        self, postgres_url: str, unique_name: Callable[[str], str]
    ) -> Iterator[Callable[..., PostgresInbox]]:
        table = _table(unique_name, "inbox")
        opened: list[PostgresInbox] = []

        def make(consumer: str, key: Any = None) -> PostgresInbox:
            inbox = PostgresInbox(postgres_url, consumer, table, **({"key": key} if key else {}))
            opened.append(inbox)
            return inbox

        yield make
        if opened:
            opened[0].drop()
        for inbox in opened:
            inbox.close()


class TestPostgresSagaLog(SagaLogContract):
    @pytest.fixture
    def log(self, postgres_url: str, unique_name: Callable[[str], str]) -> Iterator[PostgresSagaLog]:
        log = PostgresSagaLog(postgres_url, _table(unique_name, "saga_log"))
        yield log
        log.drop()
        log.close()


class TestPostgresReadModels(ReadModelStoreContract):
    @pytest.fixture
    def read_models(self, postgres_url: str, unique_name: Callable[[str], str]) -> Iterator[PostgresReadModels]:
        read_models = PostgresReadModels(postgres_url, schema=_table(unique_name, "rm"))
        yield read_models
        read_models.drop_schema()
        read_models.close()
