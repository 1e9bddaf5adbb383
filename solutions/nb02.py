"""Reference solutions for notebook 02 (the event store). Keys match ``course_lib.exercises.nb02.CHECKS``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from course_lib.eventstore import AppendResult, ConcurrencyError, EventStore
from course_lib.messages import Message


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


ANSWERS: dict[str, Any] = {"save_with_retry": save_with_retry}
