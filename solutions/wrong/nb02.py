"""Wrong answers to notebook 02's exercises."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from course_lib.eventstore import ANY, NO_STREAM, AppendResult, ConcurrencyError, EventStore
from course_lib.eventstore.base import ExpectedVersion
from course_lib.exercises.nb02 import ListStore, Recorded
from course_lib.messages import Event, Message
from solutions.wrong import Wrong


def _fits(expected: ExpectedVersion, current: int) -> bool:
    return expected in (ANY, current) or (expected == NO_STREAM and current == 0)


class VersionsFromZero(ListStore):
    def append(self, stream_id: str, events: Sequence[Event], expected_version: ExpectedVersion = ANY) -> AppendResult:
        current = self.stream_version(stream_id)
        if not _fits(expected_version, current):
            raise ConcurrencyError(stream_id, expected_version, current)
        position = self.last_position()
        for offset, event in enumerate(events):  # off by one: the first event gets version `current`
            self.log.append(Recorded(stream_id, current + offset, position + offset + 1, event))
        return AppendResult(stream_id, current + len(events) - 1, position + len(events))


class PositionsPerStream(ListStore):
    def append(self, stream_id: str, events: Sequence[Event], expected_version: ExpectedVersion = ANY) -> AppendResult:
        current = self.stream_version(stream_id)
        if not _fits(expected_version, current):
            raise ConcurrencyError(stream_id, expected_version, current)
        for offset, event in enumerate(events, start=1):
            self.log.append(Recorded(stream_id, current + offset, current + offset, event))
        return AppendResult(stream_id, current + len(events), current + len(events))


class NoConcurrencyCheck(ListStore):
    def append(self, stream_id: str, events: Sequence[Event], expected_version: ExpectedVersion = ANY) -> AppendResult:
        current, position = self.stream_version(stream_id), self.last_position()
        for offset, event in enumerate(events, start=1):
            self.log.append(Recorded(stream_id, current + offset, position + offset, event))
        return AppendResult(stream_id, current + len(events), position + len(events))


class ChecksAfterWriting(ListStore):
    def append(self, stream_id: str, events: Sequence[Event], expected_version: ExpectedVersion = ANY) -> AppendResult:
        current, position = self.stream_version(stream_id), self.last_position()
        for offset, event in enumerate(events, start=1):
            self.log.append(Recorded(stream_id, current + offset, position + offset, event))
        if not _fits(expected_version, current):
            raise ConcurrencyError(stream_id, expected_version, current)
        return AppendResult(stream_id, current + len(events), position + len(events))


class ValidatesWhileWriting(ListStore):
    def append(self, stream_id: str, events: Sequence[Event], expected_version: ExpectedVersion = ANY) -> AppendResult:
        current, position = self.stream_version(stream_id), self.last_position()
        if not _fits(expected_version, current):
            raise ConcurrencyError(stream_id, expected_version, current)
        for offset, event in enumerate(events, start=1):
            if not isinstance(event, Event):
                raise TypeError("not an event")  # too late: the events before it are already in the log
            self.log.append(Recorded(stream_id, current + offset, position + offset, event))
        return AppendResult(stream_id, current + len(events), position + len(events))


class ExpectedAgainstPosition(ListStore):
    def append(self, stream_id: str, events: Sequence[Event], expected_version: ExpectedVersion = ANY) -> AppendResult:
        current, position = self.stream_version(stream_id), self.last_position()
        if not _fits(expected_version, position):  # compares with the global position, not the stream's version
            raise ConcurrencyError(stream_id, expected_version, current)
        for offset, event in enumerate(events, start=1):
            self.log.append(Recorded(stream_id, current + offset, position + offset, event))
        return AppendResult(stream_id, current + len(events), position + len(events))


def retry_with_any(store: EventStore, stream_id: str, make_event: Callable[[int], Message], retries: int = 3) -> Any:
    return store.append(stream_id, [make_event(store.stream_version(stream_id))], ANY)


def no_retry(store: EventStore, stream_id: str, make_event: Callable[[int], Message], retries: int = 3) -> Any:
    version = store.stream_version(stream_id)
    return store.append(stream_id, [make_event(version)], version)


def stale_version(store: EventStore, stream_id: str, make_event: Callable[[int], Message], retries: int = 3) -> Any:
    version = store.stream_version(stream_id)  # read once, outside the loop
    for attempt in range(retries + 1):
        try:
            return store.append(stream_id, [make_event(version)], version)
        except ConcurrencyError:
            if attempt == retries:
                raise
    return None


def one_retry_short(store: EventStore, stream_id: str, make_event: Callable[[int], Message], retries: int = 3) -> Any:
    for attempt in range(retries):  # retries tries in all, not 1 + retries
        version = store.stream_version(stream_id)
        try:
            return store.append(stream_id, [make_event(version)], version)
        except ConcurrencyError:
            if attempt == retries - 1:
                raise
    return None


def swallows(store: EventStore, stream_id: str, make_event: Callable[[int], Message], retries: int = 3) -> Any:
    for _ in range(retries + 1):
        version = store.stream_version(stream_id)
        try:
            return store.append(stream_id, [make_event(version)], version)
        except ConcurrencyError:
            continue
    return None  # gives up silently


def event_built_once(store: EventStore, stream_id: str, make_event: Callable[[int], Message], retries: int = 3) -> Any:
    event = make_event(store.stream_version(stream_id))  # decided once, on the old state
    for attempt in range(retries + 1):
        version = store.stream_version(stream_id)
        try:
            return store.append(stream_id, [event], version)
        except ConcurrencyError:
            if attempt == retries:
                raise
    return None


WRONG = {
    "append": [
        Wrong("versions start at 0", VersionsFromZero),
        Wrong("positions counted per stream", PositionsPerStream),
        Wrong("expected_version ignored", NoConcurrencyCheck),
        Wrong("writes, then checks the version", ChecksAfterWriting),
        Wrong("validates each event while writing (half an append stays)", ValidatesWhileWriting),
        Wrong("compares expected_version with the global position", ExpectedAgainstPosition),
        Wrong("the base class itself", ListStore),
    ],
    "save_with_retry": [
        Wrong("appends with ANY", retry_with_any),
        Wrong("never retries", no_retry),
        Wrong("reads the version once, outside the loop", stale_version),
        Wrong("one try too few", one_retry_short),
        Wrong("gives up silently", swallows),
        Wrong("builds the event once, from the old state", event_built_once),
    ],
}

GIVEAWAYS = {
    "append": ("current + offset, position + offset", "position + len(events)", "expected_version == current"),
    "save_with_retry": ("range(retries + 1)", "if attempt == retries"),
}
