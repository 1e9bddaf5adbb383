"""Notebook 02's exercise: save with optimistic concurrency and retry when another writer got there first.

The learner writes ``save_with_retry(store, stream_id, make_event, retries=3)``: read the stream's version, build
the event from it, append *expecting that version*, and on ``ConcurrencyError`` read again and retry. The check
runs it against an in-memory store in which a rival writer appends between the learner's read and write.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from course_lib.domain.events import OrderItemAdded
from course_lib.eventstore.base import ANY, AppendResult, ConcurrencyError, ExpectedVersion
from course_lib.eventstore.memory import InMemoryEventStore
from course_lib.exercises import CheckResult, guarded, not_attempted, solved, wrong
from course_lib.messages import Envelope, Message

_HINTS = (
    "Inside a loop: version = store.stream_version(stream_id); event = make_event(version); "
    "store.append(stream_id, [event], version); return the result.",
    "Catch ConcurrencyError (from course_lib.eventstore) and go round the loop again; re-raise after `retries`.",
    "Pass the version you read as expected_version — never ANY, or the rival's write would be silently ignored.",
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


@guarded
def check_save_with_retry(save_with_retry: Any) -> CheckResult:
    """Run the learner's ``save_with_retry`` against a store with a rival writer."""
    if save_with_retry is None:
        return not_attempted("write save_with_retry(store, stream_id, make_event, retries=3)", _HINTS[0])
    if not callable(save_with_retry):
        return wrong(f"save_with_retry must be a function, got {type(save_with_retry).__name__}", _HINTS[0])
    store = RivalStore(rival_writes=0)
    store.append("order-o1", [_make_event(0)])  # the stream exists at version 1
    store.rival_writes, store.expected_versions = 2, []
    try:
        save_with_retry(store, "order-o1", _make_event, retries=3)
    except ConcurrencyError:
        return wrong("a ConcurrencyError escaped: the function gave up on the first conflict", _HINTS[1])
    if ANY in store.expected_versions:
        return wrong("an append used ANY as the expected version, so it could not notice the rival", _HINTS[2])
    skus = [e.message.sku for e in store.read_stream("order-o1")]  # type: ignore[attr-defined]
    if skus != ["mine-after-v0", "rival", "rival", "mine-after-v3"]:
        return wrong(f"the stream holds {skus}; expected your event once, built from version 3, after both rivals",
                     _HINTS[0])
    store = RivalStore(rival_writes=5)
    try:
        save_with_retry(store, "order-o1", _make_event, retries=2)
    except ConcurrencyError:
        pass
    else:
        return wrong("with a rival winning every time, the function should give up and re-raise after `retries`",
                     _HINTS[1])
    return solved("your writer lost twice to a rival, re-read the version each time, and its third try stored "
                  "one event built from the current state; with a rival that always wins, it gives up")


CHECKS: dict[str, Callable[..., CheckResult]] = {"save_with_retry": check_save_with_retry}
