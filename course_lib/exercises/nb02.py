"""Notebook 02's exercises: the heart of an event store, and a writer that survives a rival.

``append``: the learner writes ``append(stream_id, events, expected_version)`` for :class:`ListStore`, a tiny store
kept in a Python list (reading is written for them). The check appends to several streams and asks: do stream
versions continue from 1, are positions global across streams, is a stale ``expected_version`` (an int,
``NO_STREAM`` or ``ANY``) refused with ``ConcurrencyError``, and is a failed append all-or-nothing?

``save_with_retry``: read the stream's version, build the event from it, append *expecting that version*, and on
``ConcurrencyError`` read again and retry. The check runs it against a store where a rival writer appends between
the learner's read and write.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from course_lib.eventstore.base import ANY, NO_STREAM, AppendResult, ConcurrencyError, ExpectedVersion
from course_lib.eventstore.memory import InMemoryEventStore
from course_lib.exercises import Check, CheckResult, Hints, exercise, not_attempted, solved, wrong
from course_lib.messages import Envelope, Event, Message
from course_lib.shop.events import OrderCreated, OrderItemAdded


@dataclass(frozen=True)
class Recorded:
    """One event in a :class:`ListStore`: its stream, its version in that stream, its global position."""

    stream_id: str
    version: int
    position: int
    event: Event


class ListStore:
    """An event store in a Python list. Reading is done; ``append`` is the exercise."""

    def __init__(self) -> None:
        self.log: list[Recorded] = []

    def stream_version(self, stream_id: str) -> int:
        """How many events the stream holds (0: it does not exist yet)."""
        return sum(1 for record in self.log if record.stream_id == stream_id)

    def read_stream(self, stream_id: str) -> list[Recorded]:
        """The stream's records, oldest first."""
        return [record for record in self.log if record.stream_id == stream_id]

    def last_position(self) -> int:
        """The global position of the newest event (0 when empty)."""
        return self.log[-1].position if self.log else 0

    def append(self, stream_id: str, events: Sequence[Event],
               expected_version: ExpectedVersion = ANY) -> AppendResult:
        """Store ``events`` at the end of ``stream_id`` if it is at ``expected_version``; all or nothing."""
        raise NotImplementedError("write append() in your subclass")


APPEND_HINTS = Hints(
    concept="Optimistic concurrency: a writer says which version of the stream it decided on, and the store "
            "refuses the append if the stream has moved on since. An append is all-or-nothing: either every event "
            "is stored or none is.",
    approach="Do every check before touching self.log: compare the stream's current version with "
             "expected_version (an int, NO_STREAM or ANY) and make sure every item is an Event. Only then add the "
             "records, numbering versions on from the stream's current version and positions on from the last "
             "position in the whole log.",
    skeleton="def append(self, stream_id, events, expected_version=ANY):\n    current = ...\n"
             "    if ...:  # does expected_version fit current?\n"
             "        raise ConcurrencyError(stream_id, expected_version, current)\n"
             "    if ...:  # an item that is not an Event\n        raise TypeError(...)\n"
             "    for offset, event in enumerate(events, start=1):\n"
             "        self.log.append(Recorded(stream_id, ..., ..., event))\n"
             "    return AppendResult(stream_id, ..., ...)",
)


def _item(n: int) -> OrderItemAdded:
    return OrderItemAdded(order_id="a", sku=f"sku-{n}", quantity=1, unit_price_cents=100)


def _layout(store: ListStore) -> list[tuple[str, int, int]]:
    return [(r.stream_id, r.version, r.position) for r in store.log]


def _refuses(store: ListStore, stream_id: str, events: list[Any], expected: ExpectedVersion,
             error: type[Exception]) -> str | None:
    """None when the append raised ``error`` and left the log as it was; else what went wrong."""
    before = _layout(store)
    try:
        store.append(stream_id, events, expected)
    except error:
        pass
    except Exception as exc:  # a different error: say which
        return f"raised {type(exc).__name__} instead of {error.__name__}"
    else:
        return f"was accepted, but it should raise {error.__name__}"
    if _layout(store) != before:
        return f"raised {error.__name__} but left {len(store.log) - len(before)} new event(s) in the log"
    return None


@exercise("nb02.append", title="append with versions, global positions and optimistic concurrency",
          level="★★", minutes=20, hints=APPEND_HINTS)
def check_append(store_class: Any) -> CheckResult:
    """Run the learner's ``ListStore`` subclass through appends, conflicts and a half-bad batch."""
    if store_class is None:
        return not_attempted("write a ListStore subclass with append() and assign the class to `MyStore`")
    if not (isinstance(store_class, type) and issubclass(store_class, ListStore)):
        return wrong(f"MyStore must be your ListStore subclass itself (the class), got {store_class!r}")
    store = store_class()
    first = store.append("order-a", [OrderCreated(order_id="a", customer_id="ada"), _item(1)], NO_STREAM)
    if not isinstance(first, AppendResult):
        return wrong(f"append returned {first!r}; return an AppendResult(stream_id, stream_version, position)")
    if _layout(store) != [("order-a", 1, 1), ("order-a", 2, 2)]:
        return wrong(f"after two events in a new stream the log is {_layout(store)} as (stream, version, "
                     "position); a stream's first event is version 1 and the log's first position is 1")
    second = store.append("order-b", [OrderCreated(order_id="b", customer_id="bo")], NO_STREAM)
    if _layout(store)[-1] != ("order-b", 1, 3):
        return wrong(f"the first event of a second stream was stored as {_layout(store)[-1]}: versions count per "
                     "stream, positions count across the whole log")
    third = store.append("order-a", [_item(2)], 2)
    if _layout(store)[-1] != ("order-a", 3, 4):
        return wrong(f"appending to order-a at version 2 stored {_layout(store)[-1]}")
    results = [(r.stream_version, r.position) for r in (first, second, third)]
    if results != [(2, 2), (1, 3), (3, 4)]:
        return wrong(f"the results said (stream_version, position) = {results}: each should name the last event "
                     "the append stored")
    for stream_id, expected, what in (("order-a", 2, "a stale version (order-a is at 3, not 2)"),
                                      ("order-b", NO_STREAM, "NO_STREAM for a stream that exists"),
                                      ("order-a", 4, "a version from the future (order-a is at 3)")):
        problem = _refuses(store, stream_id, [_item(9)], expected, ConcurrencyError)
        if problem:
            return wrong(f"an append expecting {what} {problem}")
    problem = _refuses(store, "order-a", [_item(10), "not an event"], ANY, TypeError)
    if problem:
        return wrong(f"an append of one good event and one that is not an Event {problem}: an append is all or "
                     "nothing")
    store.append("order-c", [OrderCreated(order_id="c", customer_id="cy")], 0)
    store.append("order-a", [_item(11)], ANY)
    if _layout(store)[-2:] != [("order-c", 1, 5), ("order-a", 4, 6)]:
        return wrong(f"expected version 0 on a new stream, then ANY on order-a, stored {_layout(store)[-2:]}")
    return solved("versions count per stream from 1, positions across the log, stale, future and NO_STREAM "
                  "appends are refused with nothing written, and a half-bad batch writes nothing")


RETRY_HINTS = Hints(
    concept="A ConcurrencyError means another writer got there first. The cure is to read the stream again, "
            "decide again from what is there now, and try again — a bounded number of times.",
    approach="Repeat: read the current version, build the event from that version, append expecting exactly that "
             "version. When the store refuses, go round again; after the allowed retries, let the error out.",
    skeleton="def save_with_retry(store, stream_id, make_event, retries=3):\n"
             "    for attempt in range(...):\n        version = ...\n        try:\n"
             "            return store.append(stream_id, [...], ...)\n        except ConcurrencyError:\n"
             "            if ...:  # out of retries\n                raise",
)


class RivalStore(InMemoryEventStore):
    """A store where a rival writer appends right before the learner's first ``rival_writes`` appends."""

    def __init__(self, rival_writes: int = 1) -> None:
        super().__init__()
        self.rival_writes = rival_writes
        self.expected_versions: list[ExpectedVersion] = []

    def append(self, stream_id: str, events: Sequence[Envelope[Any] | Message],
               expected_version: ExpectedVersion = ANY, **kwargs: Any) -> AppendResult:
        self.expected_versions.append(expected_version)
        if self.rival_writes > 0:
            self.rival_writes -= 1
            super().append(stream_id, [OrderItemAdded(order_id="o1", sku="rival", quantity=1, unit_price_cents=1)])
        return super().append(stream_id, events, expected_version, **kwargs)


def _make_event(version: int) -> OrderItemAdded:
    return OrderItemAdded(order_id="o1", sku=f"mine-after-v{version}", quantity=1, unit_price_cents=100)


def _attempts_until_give_up(save_with_retry: Any, retries: int) -> tuple[int, bool]:
    """(appends tried, gave up with ConcurrencyError) against a rival that always wins."""
    store = RivalStore(rival_writes=50)
    try:
        save_with_retry(store, "order-o1", _make_event, retries=retries)
    except ConcurrencyError:
        return len(store.expected_versions), True
    return len(store.expected_versions), False


@exercise("nb02.save_with_retry", title="save with optimistic concurrency and bounded retries", level="★★",
          minutes=10, hints=RETRY_HINTS)
def check_save_with_retry(save_with_retry: Any) -> CheckResult:
    """Run the learner's ``save_with_retry`` against a store with a rival writer."""
    if save_with_retry is None:
        return not_attempted("write save_with_retry(store, stream_id, make_event, retries=3)")
    if not callable(save_with_retry):
        return wrong(f"save_with_retry must be a function, got {type(save_with_retry).__name__}")
    store = RivalStore(rival_writes=0)
    store.append("order-o1", [_make_event(0)])  # the stream exists at version 1
    store.rival_writes, store.expected_versions = 2, []
    try:
        save_with_retry(store, "order-o1", _make_event, retries=3)
    except ConcurrencyError:
        return wrong("a ConcurrencyError escaped although retries were left: the function gave up too early")
    if ANY in store.expected_versions:
        return wrong("an append used ANY as the expected version, so it could not notice the rival")
    skus = [e.message.sku for e in store.read_stream("order-o1")]  # type: ignore[attr-defined]
    if skus != ["mine-after-v0", "rival", "rival", "mine-after-v3"]:
        return wrong(f"the stream holds {skus}; expected your event once, built from the version it was appended "
                     "at, after both rivals")
    for retries in (2, 0):
        tried, gave_up = _attempts_until_give_up(save_with_retry, retries)
        if not gave_up:
            return wrong(f"with a rival winning every time and retries={retries}, the function never re-raised "
                         "the ConcurrencyError")
        if tried != retries + 1:
            return wrong(f"with retries={retries} the function tried {tried} appends; one first try plus "
                         f"{retries} retries is {retries + 1}")
    return solved("your writer lost twice to a rival, re-read the version each time, and its third try stored "
                  "one event built from the current state; with a rival that always wins, it gives up after "
                  "exactly `retries` retries")


CHECKS: dict[str, Check] = {"append": check_append, "save_with_retry": check_save_with_retry}
