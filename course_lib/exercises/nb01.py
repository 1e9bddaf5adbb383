"""Notebook 01's exercise: design an event for a new fact — the customer changed a draft order's delivery address.

The check builds an instance of the learner's class with sample values and asks: is it an ``Event``, named in
the past tense (not a command), immutable, does it say which order and what the new address is, and does it
survive a JSON round trip exactly?
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, get_args

from pydantic import ValidationError

from course_lib.exercises import CheckResult, guarded, not_attempted, solved, wrong
from course_lib.messages import Command, Event, Registry, envelope, from_json, to_json

_IRREGULAR_PAST = {"Paid", "Sent", "Set", "Put", "Made", "Built", "Held", "Taken", "Given", "Moved", "Reset"}
_HINTS = (
    "Subclass course_lib.messages.Event and name the fact in the past tense: the thing first, then the verb "
    "(like OrderItemAdded).",
    "An event must say which order it is about (order_id: str) and carry the new address in one or more fields "
    "whose names contain 'address' (or street/city/postcode).",
    "Use plain JSON-friendly types: str and int fields round-trip exactly.",
)
_SAMPLES: dict[Any, Any] = {str: "sample", int: 7, bool: True, float: 1.5}


def _sample_value(annotation: Any) -> Any:
    if annotation in _SAMPLES:
        return _SAMPLES[annotation]
    for arg in get_args(annotation):  # Optional[str], str | None …
        if arg in _SAMPLES:
            return _SAMPLES[arg]
    raise TypeError(f"no sample value for a field of type {annotation!r}")


def _words(name: str) -> list[str]:
    return re.findall(r"[A-Z][a-z0-9]*", name)


@guarded
def check_event_design(event_class: Any) -> CheckResult:
    """Check the learner's event class for "a draft order's delivery address changed"."""
    if event_class is None:
        return not_attempted("define your event class and assign it to `MyEvent`", _HINTS[0])
    if not isinstance(event_class, type):
        return wrong(f"assign the class itself, not {type(event_class).__name__}: MyEvent = YourEventClass",
                     _HINTS[0])
    if issubclass(event_class, Command) or not issubclass(event_class, Event):
        return wrong(f"{event_class.__name__} is not an Event subclass", _HINTS[0])
    name = event_class.__name__
    words = _words(name)
    if len(words) < 2 or not (words[-1].endswith("ed") or words[-1] in _IRREGULAR_PAST):
        return wrong(f"{name!r} does not end in a past-tense verb: an event records what already happened",
                     _HINTS[0])
    if words[0] in {"Change", "Set", "Update", "Move"}:
        return wrong(f"{name!r} starts with a verb, like a command; put the thing first", _HINTS[0])
    fields = event_class.model_fields
    if "order_id" not in fields:
        return wrong(f"{name} has no order_id field: which order changed?", _HINTS[1])
    address_fields = [f for f in fields if any(w in f for w in ("address", "street", "city", "postcode", "zip"))]
    if not address_fields:
        return wrong(f"{name} has fields {sorted(fields)} but none holds the new address", _HINTS[1])
    values = {field: _sample_value(info.annotation) for field, info in fields.items()}
    event = event_class(**values)
    try:
        setattr(event, address_fields[0], "somewhere else")
    except ValidationError:
        pass
    else:
        return wrong(f"a {name} can be edited after the fact; keep the frozen model_config of Event",
                     "Don't override model_config, or keep frozen=True in it.")
    registry = Registry()
    registry.add(event_class)
    env = envelope(event)
    back = from_json(to_json(env), registry)
    if back != env:
        return wrong(f"{name} changed on its way through JSON: {back.message!r} != {event!r}", _HINTS[2])
    return solved(f"{name} is a past-tense, immutable fact about an order ({', '.join(sorted(fields))}) "
                  "and round-trips through JSON exactly")


CHECKS: dict[str, Callable[..., CheckResult]] = {"event_design": check_event_design}
