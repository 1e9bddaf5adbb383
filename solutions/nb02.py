"""Reference solutions for notebook 02 (the event store). Keys match ``course_lib.exercises.nb02.CHECKS``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from course_lib.eventstore import ANY, NO_STREAM, AppendResult, ConcurrencyError, EventStore
from course_lib.eventstore.base import ExpectedVersion
from course_lib.exercises.nb02 import ListStore, Recorded
from course_lib.messages import Event, Message


class MyStore(ListStore):
    """The list store with append: check everything first, then write every event or none."""

    def append(self, stream_id: str, events: Sequence[Event],
               expected_version: ExpectedVersion = ANY) -> AppendResult:
        current = self.stream_version(stream_id)
        if not (expected_version in (ANY, current) or (expected_version == NO_STREAM and current == 0)):
            raise ConcurrencyError(stream_id, expected_version, current)
        if not all(isinstance(event, Event) for event in events):
            raise TypeError("every item of an append must be an Event")
        position = self.last_position()
        for offset, event in enumerate(events, start=1):
            self.log.append(Recorded(stream_id, current + offset, position + offset, event))
        return AppendResult(stream_id, current + len(events), position + len(events))



def save_with_retry(store: EventStore, stream_id: str, make_event: Callable[[int], Message],
                    retries: int = 3) -> AppendResult:
    """Append ``make_event(version)`` expecting ``version``; on a conflict read again, up to ``retries`` times."""
    for attempt in range(retries + 1):
        version = store.stream_version(stream_id)
        try:
            return store.append(stream_id, [make_event(version)], version)
        except ConcurrencyError:
            if attempt == retries:
                raise
    raise AssertionError("unreachable")


ANSWERS: dict[str, Any] = {"append": MyStore, "save_with_retry": save_with_retry}
