"""Notebook 01's exercise: design an event for a new fact — the customer changed a draft order's delivery address.

The check builds instances of the learner's class and asks: is it an ``Event``, named precisely in the past tense
(the thing first, and a name that says *what* changed, not ``OrderUpdated``), immutable, does it say which order
and what the new address is, does it refuse an address with an empty part (a fact the shop would never record),
and does it survive a JSON round trip exactly?
"""

from __future__ import annotations

import re
from typing import Any, get_args

from pydantic import ValidationError

from course_lib.exercises import Check, CheckResult, Hints, exercise, not_attempted, solved, wrong
from course_lib.messages import Command, Event, Registry, envelope, from_json, to_json

_IRREGULAR_PAST = {"Paid", "Sent", "Set", "Put", "Made", "Built", "Held", "Taken", "Given", "Moved", "Reset"}
_VAGUE = {"Updated", "Changed", "Modified", "Edited", "Saved", "Event", "Happened"}
_ADDRESS_WORDS = ("address", "street", "city", "postcode", "zip", "house", "line")
_SAMPLES_BY_NAME = {"postcode": "10115", "zip": "10115", "city": "Berlin", "street": "Main Street 1",
                    "order_id": "o-1", "country": "DE"}
_SAMPLES_BY_TYPE: dict[Any, Any] = {str: "sample", int: 7, bool: True, float: 1.5}

HINTS = Hints(
    concept="An event is a fact in the past tense that a reader of the log understands on its own: its name says "
            "which thing and what exactly happened to it, and its fields carry everything needed to replay it.",
    approach="Subclass Event; name it after the thing and the precise change; give it the order's id and the "
             "parts of the new address; let pydantic refuse a part that is empty, so an impossible fact can "
             "never be recorded.",
    skeleton="class <Thing><WhatChanged><PastVerb>(Event):\n    order_id: str\n    <address part>: str = "
             "Field(...)   # a constraint that refuses ''\n    ...",
)


def _sample_value(name: str, annotation: Any) -> Any:
    for key, value in _SAMPLES_BY_NAME.items():
        if key in name and (annotation is str or str in get_args(annotation)):
            return value
    if annotation in _SAMPLES_BY_TYPE:
        return _SAMPLES_BY_TYPE[annotation]
    for arg in get_args(annotation):  # Optional[str], str | None …
        if arg in _SAMPLES_BY_TYPE:
            return _SAMPLES_BY_TYPE[arg]
    raise TypeError(f"no sample value for field {name!r} of type {annotation!r}: use str fields")


def _words(name: str) -> list[str]:
    return re.findall(r"[A-Z][a-z0-9]*", name)


def _name_problem(name: str) -> str | None:
    words = _words(name)
    if len(words) < 2 or not (words[-1].endswith("ed") or words[-1] in _IRREGULAR_PAST):
        return f"{name!r} does not end in a past-tense verb: an event records what already happened"
    if words[0] in {"Change", "Set", "Update", "Move", "Edit"}:
        return f"{name!r} starts with a verb, like a command; put the thing first"
    if not any(w.lower() in {"address", "delivery", "shipping"} for w in words):
        return (f"{name!r} does not say what changed: a reader of the log could not tell it from any other change "
                "to an order")
    return None


@exercise("nb01.event_design", title="design an event with a precise name and validation", level="★★",
          minutes=12, hints=HINTS)
def check_event_design(event_class: Any) -> CheckResult:
    """Check the learner's event class for "a draft order's delivery address changed"."""
    if event_class is None:
        return not_attempted("define your event class and assign it to `MyEvent`")
    if not isinstance(event_class, type):
        return wrong(f"assign the class itself, not {type(event_class).__name__}: MyEvent = YourEventClass")
    if issubclass(event_class, Command) or not issubclass(event_class, Event):
        return wrong(f"{event_class.__name__} is not an Event subclass")
    name = event_class.__name__
    if (problem := _name_problem(name)) is not None:
        return wrong(problem)
    fields = event_class.model_fields
    if "order_id" not in fields:
        return wrong(f"{name} has no order_id field: which order changed?")
    address_fields = [f for f in fields if any(w in f for w in _ADDRESS_WORDS)]
    if not address_fields:
        return wrong(f"{name} has fields {sorted(fields)} but none holds the new address")
    values = {field: _sample_value(field, info.annotation) for field, info in fields.items()}
    try:
        event = event_class(**values)
    except ValidationError as exc:
        return wrong(f"{name} refused a plausible address {values}: {exc.errors()[0]['msg']}")
    try:
        setattr(event, address_fields[0], "somewhere else")
    except ValidationError:
        pass
    else:
        return wrong(f"a {name} can be edited after the fact: an event must stay frozen like Event itself")
    for field in address_fields:
        if values[field] == "" or not isinstance(values[field], str):
            continue
        for empty in ("", "   "):
            try:
                event_class(**{**values, field: empty})
            except ValidationError:
                continue
            return wrong(f"{name} accepts {field}={empty!r}: an address with an empty part is not a fact the shop "
                         "records — make the event refuse it")
    registry = Registry()
    registry.add(event_class)
    env = envelope(event)
    back = from_json(to_json(env), registry)
    if back != env:
        return wrong(f"{name} changed on its way through JSON: {back.message!r} != {event!r}")
    return solved(f"{name} is a precise, past-tense, immutable fact about an order ({', '.join(sorted(fields))}); "
                  "it refuses an empty address part and round-trips through JSON exactly")


CHECKS: dict[str, Check] = {"event_design": check_event_design}
