"""The event store's contract, shared by every backend (in-memory, SQLite, PostgreSQL).

Vocabulary:
- a **stream** is the history of one thing (``order-42``); its events have versions 1, 2, 3 … with no gap;
- the **global position** orders every event of every stream (1, 2, 3 …) and is what projections follow;
- **expected version** is optimistic concurrency: "I decided based on version N; store my events only if the
  stream is still at N". ``NO_STREAM`` means "the stream must not exist yet", ``ANY`` means "don't check".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from course_lib.errors import CourseError
from course_lib.messages import Envelope, Message

ANY: Literal["any"] = "any"
NO_STREAM: Literal["no_stream"] = "no_stream"
ExpectedVersion = int | Literal["any", "no_stream"]

_expected_version_adapter: TypeAdapter[Any] = TypeAdapter(
    int | Literal["any", "no_stream"]  # type: ignore[arg-type]
)


class ConcurrencyError(CourseError):
    """Another writer appended to the stream since we read it."""

    def __init__(self, stream_id: str, expected: ExpectedVersion, actual: int) -> None:
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"Stream {stream_id!r} is at version {actual}, but the append expected {expected!r}. "
            "Another writer got there first: reload the stream, decide again, and retry."
        )


class StoredEventCorrupt(CourseError):
    """A stored event cannot be read back (bad JSON or failing validation). Names where it sits in the log."""

    def __init__(self, stream_id: str, version: int, reason: str, position: int | None = None) -> None:
        self.stream_id = stream_id
        self.version = version
        self.position = position
        where = "" if position is None else f" (global position {position})"
        super().__init__(f"Event {stream_id!r} version {version}{where} is corrupt: {reason}")


class EventNotStorable(CourseError, ValueError):
    """An append was refused because an event would not read back exactly as it was written.

    Nothing of the append is stored. Names the stream, the event type and, where one is to blame, the field.
    """

    def __init__(self, stream_id: str, type_name: str, field: str | None, reason: str, fix: str) -> None:
        self.stream_id = stream_id
        self.type_name = type_name
        self.field = field
        self.reason = reason
        where = f"field {field!r}: " if field else ""
        super().__init__(f"Cannot append {type_name} to stream {stream_id!r}: {where}{reason}.\n  How to fix: {fix}")


class SnapshotNotStorable(CourseError, TypeError):
    """A snapshot was refused because its state is not JSON (every store keeps a snapshot's state as JSON text)."""

    def __init__(self, snapshot: Snapshot, reason: str) -> None:
        self.stream_id = snapshot.stream_id
        self.reason = reason
        super().__init__(
            f"Cannot save the snapshot of stream {snapshot.stream_id!r} ({snapshot.type} v{snapshot.version}): its "
            f"state is not JSON ({reason}).\n  How to fix: make snapshot_state() return JSON-ready data: dicts with "
            "string keys, lists, str, int, float, bool and None (a set as a sorted list, a datetime as ISO text)"
        )


class CannotOpenStore(CourseError):
    """The store's location cannot be opened (a directory, a missing or read-only folder …). Says what to do."""

    def __init__(self, location: str, reason: str, fix: str) -> None:
        self.location = location
        self.reason = reason
        self.fix = fix
        super().__init__(f"Cannot open the event store at {location!r}: {reason}.\n  How to fix: {fix}")


def validate_expected_version(value: object) -> ExpectedVersion:
    """Accept an int >= 0, ``ANY`` or ``NO_STREAM``; anything else is a clear ``ValueError``."""
    try:
        checked = _expected_version_adapter.validate_python(value, strict=True)
    except ValidationError:
        raise ValueError(
            f"expected_version must be an int >= 0, ANY ('any') or NO_STREAM ('no_stream'), got {value!r}"
        ) from None
    if isinstance(checked, int) and checked < 0:
        raise ValueError(f"expected_version must be >= 0, got {checked}")
    return checked  # type: ignore[no-any-return]


@dataclass(frozen=True)
class AppendResult:
    """Where an append left the stream and the global log."""

    stream_id: str
    stream_version: int
    position: int


class Snapshot(BaseModel):
    """An aggregate's state at a stream version, so loading can skip the events before it."""

    model_config = ConfigDict(frozen=True)

    stream_id: str
    version: int = Field(ge=1)
    type: str
    state: dict[str, Any]


InTransaction = Callable[[Any, list[Envelope[Message]]], None]
"""Extra work to run inside an append's transaction (SQL backends): ``fn(connection, stored_envelopes)``.

The connection is the backend's own (``sqlite3.Connection`` or ``psycopg.Connection``); the envelopes carry their
stream version and global position. It runs after the events are inserted and before the commit; if it raises,
the whole append is rolled back and nothing is written. This is how the transactional outbox stores its rows
atomically with the events.
"""


@runtime_checkable
class EventStore(Protocol):
    """What every backend offers. Envelopes returned by reads carry stream_id, stream_version and position."""

    def append(
        self,
        stream_id: str,
        events: Sequence[Envelope[Any] | Message],
        expected_version: ExpectedVersion = ANY,
        *,
        in_transaction: InTransaction | None = None,
    ) -> AppendResult:
        """Append atomically; ``ConcurrencyError`` on a stale expected version. Re-appending stored ids is a no-op.

        ``in_transaction`` runs inside the append's transaction (see ``InTransaction``): the outbox's rows are
        written with the events or not at all."""
        ...

    def read_stream(self, stream_id: str, from_version: int = 1, limit: int | None = None) -> list[Envelope[Message]]:
        """Events of one stream, from a version, in version order."""
        ...

    def read_all(self, from_position: int = 1, limit: int = 1000) -> list[Envelope[Message]]:
        """One page of events of all streams in global order, from a position (inclusive)."""
        ...

    def last_position(self) -> int:
        """The highest global position stored (0 when empty)."""
        ...

    def stream_version(self, stream_id: str) -> int:
        """The stream's current version (0 when it does not exist)."""
        ...

    def stream_ids(self) -> list[str]:
        """Every stream's id, in the order the streams were created."""
        ...

    def save_snapshot(self, snapshot: Snapshot) -> None:
        """Keep a snapshot beside the stream (replacing an older one)."""
        ...

    def load_snapshot(self, stream_id: str) -> Snapshot | None:
        """The newest snapshot of a stream, if any: a new object on every call, read back from its JSON, so its
        state belongs to the caller (the repository hands it to the aggregate without copying it)."""
        ...

    def close(self) -> None:
        """Release connections and files."""
        ...


def check_expected_version(stream_id: str, expected: ExpectedVersion, actual: int) -> None:
    """Raise ``ConcurrencyError`` unless a stream at ``actual`` satisfies ``expected``."""
    if expected == ANY:
        return
    if expected == NO_STREAM:
        if actual != 0:
            raise ConcurrencyError(stream_id, expected, actual)
        return
    if expected != actual:
        raise ConcurrencyError(stream_id, expected, actual)
