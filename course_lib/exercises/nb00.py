"""Notebook 00's warm-up exercise: name the events that successful commands record, in the past tense.

A command asks for something (``CancelOrder``); the event records that it happened (``OrderCancelled``): the thing
first, then a past-tense verb. The check compares the learner's names with the events the shop actually records in
:mod:`course_lib.shop.events` (a unit test keeps the two in step).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from course_lib.exercises import Check, CheckResult, Hints, exercise, not_attempted, solved, wrong

# command → the event the shop records when that command succeeds
COMMANDS: dict[str, str] = {
    "CancelOrder": "OrderCancelled",
    "ReserveStock": "StockReserved",
    "ChargePayment": "PaymentCharged",
}

_PASCAL_CASE = re.compile(r"^[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]+)+$")
_IRREGULAR_PAST = {"Paid", "Sent", "Sold", "Made", "Built", "Held", "Taken", "Given"}
HINTS = Hints(
    concept="A command asks for something and may be refused; an event records a fact that already happened.",
    approach="Name what the command acts on (a noun), then say what happened to it with a past-tense verb, in "
             "PascalCase like the classes in course_lib.shop.events.",
    skeleton="Shape of each answer: '<Thing><VerbInThePast>' — for ShipOrder the shop records 'OrderShipped'.",
)


def _spelling(name: str) -> str:
    # American "Canceled" and British "Cancelled" are the same word; the shop spells it the British way.
    return name.replace("Canceled", "Cancelled")


def _words(name: str) -> list[str]:
    return re.findall(r"[A-Z][a-z0-9]*", name)


def _problem(command: str, answer: Any) -> str | None:
    """What is wrong with one answer, or None when it is right."""
    expected = COMMANDS[command]
    if not isinstance(answer, str) or not answer.strip():
        return f"{command}: still empty"
    name = _spelling(answer.strip())
    if not _PASCAL_CASE.match(name):
        return f"{command}: {answer!r} is not a PascalCase class name"
    if name == command:
        return f"{command}: that is the command itself (a request); the event records what happened"
    if name == expected:
        return None
    if sorted(_words(name)) == sorted(_words(expected)):
        return f"{command}: {answer!r} has the right words, but the shop names the thing first, then the verb"
    if not any(word.endswith("ed") or word in _IRREGULAR_PAST for word in _words(name)):
        return f"{command}: {answer!r} is not in the past tense"
    return f"{command}: {answer!r} is not the event the shop records for this command"


@exercise("nb00.event_names", title="name the events three commands record", level="★", minutes=3, hints=HINTS)
def check_event_names(answers: Mapping[str, Any] | None) -> CheckResult:
    """Check a dict mapping each command in :data:`COMMANDS` to the name of the event it records."""
    if answers is None or (isinstance(answers, Mapping) and all(v is None for v in answers.values())):
        return not_attempted("fill in an event name for each command")
    if not isinstance(answers, Mapping):
        return wrong(f"expected a dict of command → event name, got {type(answers).__name__}")
    missing = [c for c in COMMANDS if c not in answers]
    if missing:
        return wrong(f"no answer for {', '.join(missing)}: keep every key of the scaffold's dict")
    problems = [p for c in COMMANDS if (p := _problem(c, answers[c])) is not None]
    if problems:
        return wrong(f"{len(COMMANDS) - len(problems)} of {len(COMMANDS)} right; " + "; ".join(problems))
    return solved("all three are facts in the past tense, and each is an event the shop records: "
                  + ", ".join(COMMANDS.values()))


CHECKS: dict[str, Check] = {"event_names": check_event_names}
