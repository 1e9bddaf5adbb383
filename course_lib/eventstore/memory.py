"""The in-memory event store: for unit tests and for explaining ideas. Lost when the process ends.

Same contract as the SQL stores (optimistic concurrency, idempotent ids, gap-free global positions), guarded by
one lock so threads can share it. Appends are checked exactly as the SQL stores check them (``encoding``), so an
event this store accepts is one that SQLite and PostgreSQL would store and read back too.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from typing import Any

from course_lib.clock import Clock, IdFactory, random_ids, system_clock
from course_lib.eventstore.base import (
    ANY,
    AppendResult,
    ExpectedVersion,
    InTransaction,
    Snapshot,
    check_expected_version,
    validate_expected_version,
)
from course_lib.eventstore.encoding import encode_batch
from course_lib.eventstore.records import check_stream_id, snapshot_from_row, snapshot_text, stored
from course_lib.messages import Envelope, Message, Registry, registry


class InMemoryEventStore:
    """An event store in a Python list. ``in_transaction`` gets ``None`` as its connection."""

    def __init__(
        self, *, registry: Registry = registry, clock: Clock = system_clock, ids: IdFactory = random_ids
    ) -> None:
        self._registry = registry
        self._clock = clock
        self._ids = ids
        self._lock = threading.RLock()
        self._log: list[Envelope[Message]] = []
        self._streams: dict[str, list[Envelope[Message]]] = {}
        self._by_id: dict[uuid.UUID, Envelope[Message]] = {}
        self._snapshots: dict[str, tuple[int, str, str]] = {}  # stream → (version, type, state as JSON)

    def append(
        self,
        stream_id: str,
        events: Sequence[Envelope[Any] | Message],
        expected_version: ExpectedVersion = ANY,
        *,
        in_transaction: InTransaction | None = None,
    ) -> AppendResult:
        """Append atomically; ``ConcurrencyError`` on a stale expected version; stored ids are skipped."""
        check_stream_id(stream_id)
        expected = validate_expected_version(expected_version)
        batch, _ = encode_batch(stream_id, events, registry=self._registry, clock=self._clock, ids=self._ids)
        with self._lock:
            stream = self._streams.get(stream_id, [])
            fresh = [env for env in batch if env.message_id not in self._by_id]
            if batch and not fresh:  # a retry of an append that already happened: nothing to do
                last = self._by_id[batch[-1].message_id]
                return AppendResult(stream_id, len(stream), last.metadata.position or 0)
            check_expected_version(stream_id, expected, len(stream))
            version, position = len(stream), len(self._log)
            new = [stored(env, stream_id, version + i, position + i) for i, env in enumerate(fresh, start=1)]
            if in_transaction is not None:
                in_transaction(None, list(new))  # raising here leaves the store untouched
            self._log.extend(new)
            self._streams.setdefault(stream_id, []).extend(new)
            self._by_id.update((env.message_id, env) for env in new)
            last_position = new[-1].metadata.position if new else (stream[-1].metadata.position if stream else 0)
            return AppendResult(stream_id, version + len(new), last_position or 0)

    def read_stream(self, stream_id: str, from_version: int = 1, limit: int | None = None) -> list[Envelope[Message]]:
        """Events of one stream from ``from_version``, in version order."""
        with self._lock:
            events = self._streams.get(stream_id, [])[max(from_version, 1) - 1:]
        return events[:limit] if limit is not None else list(events)

    def read_messages(self, stream_id: str, from_version: int = 1, limit: int | None = None) -> list[Message]:
        """Only the messages of ``read_stream`` (what rehydrating an aggregate needs)."""
        return [env.message for env in self.read_stream(stream_id, from_version, limit)]

    def read_all(self, from_position: int = 1, limit: int = 1000) -> list[Envelope[Message]]:
        """One page of all events in global order, from ``from_position`` (inclusive)."""
        start = max(from_position, 1) - 1
        with self._lock:
            return self._log[start:start + limit]

    def last_position(self) -> int:
        """The highest global position (0 when empty)."""
        with self._lock:
            return len(self._log)

    def stream_version(self, stream_id: str) -> int:
        """The stream's current version (0 when it does not exist)."""
        with self._lock:
            return len(self._streams.get(stream_id, []))

    def stream_ids(self) -> list[str]:
        """Every stream id, in order of first appearance."""
        with self._lock:
            return list(self._streams)

    def save_snapshot(self, snapshot: Snapshot) -> None:
        """Keep the snapshot as JSON, as the SQL stores do (replacing an older one of the same stream)."""
        state = snapshot_text(snapshot)  # what SQLite would refuse, this store refuses too
        with self._lock:
            current = self._snapshots.get(snapshot.stream_id)
            if current is None or current[0] <= snapshot.version:
                self._snapshots[snapshot.stream_id] = (snapshot.version, snapshot.type, state)

    def load_snapshot(self, stream_id: str) -> Snapshot | None:
        """The newest snapshot of the stream, if any: a new object each time, as read back from JSON."""
        with self._lock:
            kept = self._snapshots.get(stream_id)
        return None if kept is None else snapshot_from_row(stream_id, *kept)

    def close(self) -> None:
        """Nothing to release."""

    def __repr__(self) -> str:
        return f"InMemoryEventStore(events={len(self._log)}, streams={len(self._streams)})"
