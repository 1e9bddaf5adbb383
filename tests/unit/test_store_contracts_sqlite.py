"""The SQLite twins pass the shared contracts: outbox, inbox, saga log, read models (PostgreSQL: the integration
tests run the same contracts)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from course_lib.outbox import SQLiteInbox, SQLiteOutbox
from course_lib.outbox.testing import InboxContract, OutboxContract
from course_lib.projections import SQLiteReadModels
from course_lib.projections.testing import ReadModelStoreContract
from course_lib.sagas import SQLiteSagaLog
from course_lib.sagas.testing import SagaLogContract


class TestSqliteOutbox(OutboxContract):
    @pytest.fixture
    def outbox(self, tmp_path: Path) -> Iterator[SQLiteOutbox]:
        outbox = SQLiteOutbox(tmp_path / "outbox.db")
        yield outbox
        outbox.close()


class TestSqliteInbox(InboxContract):
    @pytest.fixture
    def make_inbox(self, tmp_path: Path) -> Iterator[Callable[..., SQLiteInbox]]:
        opened: list[SQLiteInbox] = []

        def make(consumer: str, key: Any = None) -> SQLiteInbox:
            inbox = SQLiteInbox(tmp_path / "inbox.db", consumer, **({"key": key} if key else {}))
            opened.append(inbox)
            return inbox

        yield make
        for inbox in opened:
            inbox.close()

    @pytest.fixture
    def effects_table(self) -> str:
        return "effects"


class TestSqliteSagaLog(SagaLogContract):
    @pytest.fixture
    def log(self, tmp_path: Path) -> Iterator[SQLiteSagaLog]:
        log = SQLiteSagaLog(tmp_path / "saga.db")
        yield log
        log.close()


class TestSQLiteReadModels(ReadModelStoreContract):
    @pytest.fixture
    def read_models(self, tmp_path: Path) -> Iterator[SQLiteReadModels]:
        read_models = SQLiteReadModels(tmp_path / "read.db")
        yield read_models
        read_models.close()
