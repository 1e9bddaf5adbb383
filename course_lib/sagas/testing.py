"""Contract tests every saga log backend must pass (SQLite, PostgreSQL), like ``EventStoreContract``.

A test module subclasses ``SagaLogContract`` and provides a ``log`` fixture: a fresh, empty saga log.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from course_lib.sagas.log import ConcurrentSagaWriter, LogEntry, SagaLog, unfinished


def entry(saga_id: str, seq: int, kind: str = "step_started", step: str | None = "reserve",
          data: Mapping[str, Any] | None = None) -> LogEntry:
    """One log entry of the sample saga ``order``."""
    return LogEntry(saga_id, seq, "order", kind, step, 1, "", dict(data or {}))


class SagaLogContract:
    """The saga log: entries durable in seq order, one writer per saga, sagas listed oldest first."""

    def test_an_unknown_saga_has_no_entries(self, log: SagaLog) -> None:
        assert log.entries("nobody") == [] and log.saga_ids() == []

    def test_entries_read_back_exactly_in_seq_order(self, log: SagaLog) -> None:
        data = {"order_id": "o-1", "items": {"mug": 2}, "note": "«ünïcødé» ✓", "nested": [1, {"a": None}]}
        written = [entry("s1", 1, "saga_started", None, data), entry("s1", 2),
                   entry("s1", 3, "step_succeeded", "reserve", {"reservation_id": "r-1"})]
        for e in reversed(written):  # stored out of order, read in seq order
            log.append(e)
        assert log.entries("s1") == written

    def test_a_second_writer_of_the_same_entry_is_refused(self, log: SagaLog) -> None:
        log.append(entry("s1", 1, "saga_started", None))
        with pytest.raises(ConcurrentSagaWriter, match="another orchestrator"):
            log.append(entry("s1", 1, "saga_started", None))
        assert len(log.entries("s1")) == 1

    def test_sagas_are_listed_oldest_first(self, log: SagaLog) -> None:
        for saga_id in ("b", "a", "c"):
            log.append(entry(saga_id, 1, "saga_started", None))
        log.append(entry("a", 2))
        assert log.saga_ids() == ["b", "a", "c"]

    def test_unfinished_sagas_are_the_ones_to_resume(self, log: SagaLog) -> None:
        log.append(entry("done", 1, "saga_started", None))
        log.append(entry("done", 2, "saga_completed", None))
        log.append(entry("running", 1, "saga_started", None))
        log.append(entry("running", 2))
        assert unfinished(log) == ["running"]
