"""Event stores: one protocol (``base.EventStore``), three backends (memory, SQLite, PostgreSQL).

``open_store(url)`` picks the backend from a URL:

- ``memory://`` — in-process, lost on exit (tests, explanations);
- ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db`` or ``sqlite:///:memory:`` — the embedded default;
- ``postgresql://user@host:5432/db?schema=name`` — PostgreSQL (``schema`` defaults to ``eventstore``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from course_lib.eventstore.base import (
    ANY,
    NO_STREAM,
    AppendResult,
    CannotOpenStore,
    ConcurrencyError,
    EventNotStorable,
    EventStore,
    ExpectedVersion,
    InTransaction,
    Snapshot,
    SnapshotNotStorable,
    StoredEventCorrupt,
    check_expected_version,
    validate_expected_version,
)
from course_lib.eventstore.memory import InMemoryEventStore
from course_lib.eventstore.sqlite import SQLiteEventStore


def open_store(url: str, **options: Any) -> EventStore:
    """Open the event store a URL names; ``options`` go to the backend (``clock=``, ``ids=``, ``registry=`` …)."""
    scheme = urlsplit(url).scheme
    if scheme == "memory":
        return InMemoryEventStore(**options)
    if scheme == "sqlite":
        if not url.startswith("sqlite:///") or len(url) <= len("sqlite:///"):
            raise ValueError(f"an SQLite store URL is sqlite:///path/to/file.db (three slashes), got {url!r}")
        return SQLiteEventStore(url[len("sqlite:///"):], **options)
    if scheme in {"postgresql", "postgres"}:
        from course_lib.eventstore.postgres import PostgresEventStore, split_schema

        plain, schema = split_schema(url)
        if schema is not None:
            options.setdefault("schema", schema)
        return PostgresEventStore(plain, **options)
    raise ValueError(
        f"unknown event store URL {url!r}: use memory://, sqlite:///path/to/file.db or postgresql://host/db"
    )


__all__ = [
    "ANY",
    "NO_STREAM",
    "AppendResult",
    "CannotOpenStore",
    "ConcurrencyError",
    "EventNotStorable",
    "EventStore",
    "ExpectedVersion",
    "InMemoryEventStore",
    "InTransaction",
    "SQLiteEventStore",
    "Snapshot",
    "SnapshotNotStorable",
    "StoredEventCorrupt",
    "check_expected_version",
    "open_store",
    "validate_expected_version",
]
