"""Event stores: one protocol (``base.EventStore``), three backends (memory, SQLite, PostgreSQL)."""

from course_lib.eventstore.base import (
    ANY,
    NO_STREAM,
    AppendResult,
    ConcurrencyError,
    EventStore,
    ExpectedVersion,
    Snapshot,
    StoredEventCorrupt,
    validate_expected_version,
)

__all__ = [
    "ANY",
    "NO_STREAM",
    "AppendResult",
    "ConcurrencyError",
    "EventStore",
    "ExpectedVersion",
    "Snapshot",
    "StoredEventCorrupt",
    "validate_expected_version",
]
