"""Aggregates and the repository that loads and saves them through an event store.

- An **aggregate** guards the rules of one thing (an order). A *command method* checks the rules against the
  current state and, if they hold, *records* events; it never changes state directly. ``apply`` is the only place
  state changes, and it changes it only from an event — so replaying the same events always gives the same state.
- The **repository** loads an aggregate by replaying its stream (starting from a snapshot when there is one) and
  saves the recorded events with the version it loaded as the expected version (optimistic concurrency).
- A **snapshot** is a cache of state, so it carries the schema of that state: ``snapshot_schema``, a number the
  aggregate class bumps whenever the shape *or the meaning* of ``snapshot_state`` changes. A snapshot written under
  another schema is discarded and the stream replayed — a snapshot whose fields still load but mean something
  else now would otherwise be used silently.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, ClassVar, Generic, Self, TypeVar

from course_lib.clock import Clock, IdFactory, random_ids, system_clock
from course_lib.errors import CourseError
from course_lib.eventstore.base import (
    NO_STREAM,
    AppendResult,
    ConcurrencyError,
    EventStore,
    InTransaction,
    Snapshot,
)
from course_lib.messages import Envelope, Event, Message, envelope

SNAPSHOT_SCHEMA_KEY = "_snapshot_schema"
"""Where a snapshot's state records the ``snapshot_schema`` it was written with (no store change needed)."""


class DomainError(CourseError):
    """A command broke a business rule. The message says which rule and what would be allowed."""


class AggregateNotFound(CourseError):
    """No events were stored for the aggregate."""

    def __init__(self, stream_id: str) -> None:
        self.stream_id = stream_id
        super().__init__(f"No stream {stream_id!r}: create the aggregate (and save it) before loading it.")


def handles(*event_types: type[Event]) -> Callable[[Callable[[Any, Any], None]], Callable[[Any, Any], None]]:
    """Mark a method as the state change for these event types: ``@handles(OrderCreated)``."""

    def mark(method: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
        method._handles = event_types  # type: ignore[attr-defined]
        return method

    return mark


class Aggregate:
    """Base class. Subclasses write command methods that call ``record`` and ``@handles`` methods that change state.

    ``version`` is the stream version of the last event applied (stored or still pending); 0 for a new aggregate.
    Subclasses that want snapshots implement ``snapshot_state`` and ``restore_state``, and bump ``snapshot_schema``
    whenever what ``snapshot_state`` returns changes shape or meaning.
    """

    stream_prefix: ClassVar[str] = "aggregate"
    snapshot_schema: ClassVar[int] = 1
    _handlers: ClassVar[dict[type[Event], str]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        handlers = dict(getattr(cls, "_handlers", {}))
        for name, member in vars(cls).items():
            for event_type in getattr(member, "_handles", ()):
                handlers[event_type] = name
        cls._handlers = handlers

    def __init__(self, aggregate_id: str) -> None:
        self.id = aggregate_id
        self.version = 0
        self._pending: list[Event] = []

    @classmethod
    def stream_id_for(cls, aggregate_id: str) -> str:
        """The stream that holds this aggregate's events: ``order-42``."""
        return f"{cls.stream_prefix}-{aggregate_id}"

    @property
    def stream_id(self) -> str:
        return self.stream_id_for(self.id)

    def record(self, event: Event) -> None:
        """Apply a new event and keep it to be saved. Command methods call this after checking their rules."""
        self.apply(event)
        self._pending.append(event)

    def apply(self, event: Event) -> None:
        """Change state from one event (the only place state changes) and advance the version."""
        name = self._handlers.get(type(event))
        if name is None:
            raise DomainError(
                f"{type(self).__name__} has no @handles method for {type(event).__name__}: add one, "
                "or append this event to a different stream"
            )
        getattr(self, name)(event)
        self.version += 1

    @property
    def pending_events(self) -> list[Event]:
        """Events recorded since the aggregate was loaded or last saved."""
        return list(self._pending)

    def mark_saved(self) -> None:
        """Forget the pending events (the repository calls this after a successful append)."""
        self._pending.clear()

    @classmethod
    def rehydrate(cls, aggregate_id: str, events: Iterable[Event], *, snapshot: Snapshot | None = None) -> Self:
        """Rebuild from history: the snapshot's state (if any), then each event in order."""
        aggregate = cls(aggregate_id)
        if snapshot is not None:
            aggregate.restore_state(snapshot.state)
            aggregate.version = snapshot.version
        for event in events:
            aggregate.apply(event)
        return aggregate

    def snapshot_state(self) -> dict[str, Any]:
        """The state as JSON-ready data, for a snapshot."""
        raise NotImplementedError(f"{type(self).__name__} does not support snapshots: implement snapshot_state")

    def restore_state(self, state: dict[str, Any]) -> None:
        """Set the state from ``snapshot_state`` output."""
        raise NotImplementedError(f"{type(self).__name__} does not support snapshots: implement restore_state")


A = TypeVar("A", bound=Aggregate)


class Repository(Generic[A]):
    """Loads and saves one kind of aggregate. ``snapshot_every=N`` saves a snapshot each time N more events exist."""

    def __init__(
        self,
        store: EventStore,
        aggregate_type: type[A],
        *,
        snapshot_every: int | None = None,
        clock: Clock = system_clock,
        ids: IdFactory = random_ids,
    ) -> None:
        if snapshot_every is not None and snapshot_every < 1:
            raise ValueError(f"snapshot_every must be a positive number of events or None, got {snapshot_every}")
        self.store = store
        self.aggregate_type = aggregate_type
        self.snapshot_every = snapshot_every
        self._clock = clock
        self._ids = ids
        self.events_replayed = 0  # how many events the last load applied (after its snapshot, if any)
        self.snapshot_failures: list[str] = []  # snapshots that were discarded (stale schema, damaged), and why

    def load(self, aggregate_id: str, *, use_snapshot: bool = True, version: int | None = None) -> A:
        """Rebuild the aggregate (at ``version``, or its latest). ``AggregateNotFound`` when there is no stream.

        Starts from the newest snapshot when there is a usable one. A snapshot written under another
        ``snapshot_schema`` (or none), or one that cannot be restored (damaged), is recorded in
        ``snapshot_failures`` and the whole stream is replayed instead: a snapshot is a disposable cache.
        """
        stream_id = self.aggregate_type.stream_id_for(aggregate_id)
        snapshot = self.store.load_snapshot(stream_id) if use_snapshot else None
        if snapshot is not None and (snapshot.type != self.aggregate_type.__name__
                                     or (version is not None and snapshot.version > version)):
            snapshot = None
        if snapshot is not None:
            stale = self._stale_schema(snapshot)
            if stale:
                self.snapshot_failures.append(f"{stream_id} v{snapshot.version}: {stale}")
            else:
                try:
                    return self._replay(aggregate_id, stream_id, snapshot, version)
                except (KeyError, TypeError, ValueError) as exc:
                    # a snapshot is a disposable cache: one that no longer fits the code is skipped, not fatal
                    self.snapshot_failures.append(f"{stream_id} v{snapshot.version}: {type(exc).__name__}: {exc}")
        return self._replay(aggregate_id, stream_id, None, version)

    def _stale_schema(self, snapshot: Snapshot) -> str:
        """Why the snapshot's schema does not match the code's (empty when it matches)."""
        written = snapshot.state.get(SNAPSHOT_SCHEMA_KEY)
        current = self.aggregate_type.snapshot_schema
        if written == current:
            return ""
        under = "no snapshot schema" if written is None else f"snapshot schema {written}"
        return f"written under {under}, {self.aggregate_type.__name__} is at schema {current}: discarded"

    def _replay(self, aggregate_id: str, stream_id: str, snapshot: Snapshot | None, version: int | None) -> A:
        start = snapshot.version + 1 if snapshot else 1
        limit = None if version is None else max(version - start + 1, 0)
        read_messages = getattr(self.store, "read_messages", None)  # the stores' faster read without envelopes
        if read_messages is not None:
            messages: list[Any] = read_messages(stream_id, from_version=start, limit=limit)
        else:
            messages = [env.message for env in self.store.read_stream(stream_id, from_version=start, limit=limit)]
        if snapshot is None and not messages:
            raise AggregateNotFound(stream_id)
        if snapshot is not None:  # the state as snapshot_state() returned it, without the schema marker; the
            snapshot.state.pop(SNAPSHOT_SCHEMA_KEY, None)  # store made this object for this load, so no copy
        aggregate = self.aggregate_type.rehydrate(aggregate_id, messages, snapshot=snapshot)
        self.events_replayed = len(messages)
        return aggregate

    def save(self, aggregate: A, *, caused_by: Envelope[Any] | None = None,
             in_transaction: InTransaction | None = None) -> AppendResult | None:
        """Append the pending events, expecting the version the aggregate was loaded at.

        ``caused_by`` (the command's envelope) sets correlation and causation ids; ``in_transaction`` runs inside
        the append's transaction (the outbox's rows). Returns ``None`` when there was nothing to save. Raises
        ``ConcurrencyError`` when another writer saved first.
        """
        saved = self.save_envelopes(aggregate, caused_by=caused_by, in_transaction=in_transaction)
        return None if saved is None else saved[0]

    def save_envelopes(
        self, aggregate: A, *, caused_by: Envelope[Any] | None = None, in_transaction: InTransaction | None = None
    ) -> tuple[AppendResult, list[Envelope[Message]]] | None:
        """``save``, also returning the envelopes it wrote (so a command bus can report exactly what it recorded)."""
        pending = aggregate.pending_events
        if not pending:
            return None
        loaded_at = aggregate.version - len(pending)
        envelopes: list[Envelope[Message]] = []
        for event in pending:
            if caused_by is not None:
                envelopes.append(caused_by.caused(event, clock=self._clock, ids=self._ids))
            else:
                envelopes.append(envelope(event, clock=self._clock, ids=self._ids))
        result = self.store.append(aggregate.stream_id, list(envelopes), NO_STREAM if loaded_at == 0 else loaded_at,
                                   in_transaction=in_transaction)
        aggregate.mark_saved()
        every = self.snapshot_every
        if every and result.stream_version // every > loaded_at // every:
            self.save_snapshot(aggregate)
        return result, envelopes

    def save_snapshot(self, aggregate: A) -> Snapshot:
        """Store the aggregate's current state as a snapshot (it must have no unsaved events), marked with the
        class's ``snapshot_schema``."""
        if aggregate.pending_events:
            raise DomainError("save the aggregate's pending events before taking a snapshot of it")
        state = {**aggregate.snapshot_state(), SNAPSHOT_SCHEMA_KEY: type(aggregate).snapshot_schema}
        snapshot = Snapshot(stream_id=aggregate.stream_id, version=aggregate.version,
                            type=type(aggregate).__name__, state=state)
        self.store.save_snapshot(snapshot)
        return snapshot

    def update(self, aggregate_id: str, change: Callable[[A], None], *, retries: int = 3) -> A:
        """Load, run ``change`` (which calls command methods), save; on ``ConcurrencyError`` reload and retry."""
        for attempt in range(retries + 1):
            aggregate = self.load(aggregate_id)
            change(aggregate)
            try:
                self.save(aggregate)
                return aggregate
            except ConcurrencyError:
                if attempt == retries:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def __repr__(self) -> str:
        return f"Repository({self.aggregate_type.__name__}, store={self.store!r})"
