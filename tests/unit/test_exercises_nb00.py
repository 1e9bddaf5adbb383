"""Notebook 00's checks: the reference solution passes, the placeholder is "not solved yet", wrong answers fail."""

from __future__ import annotations

from typing import Any

import pytest

from course_lib.exercises import nb00
from course_lib.shop.events import ALL_EVENTS
from solutions import nb00 as solution

SCAFFOLD: dict[str, Any] = dict.fromkeys(nb00.COMMANDS)


def test_every_check_has_a_reference_solution() -> None:
    assert set(solution.ANSWERS) == set(nb00.CHECKS)


@pytest.mark.parametrize("name", sorted(nb00.CHECKS))
def test_reference_solution_passes(name: str) -> None:
    result = nb00.CHECKS[name](solution.ANSWERS[name])
    assert result.solved, str(result)


@pytest.mark.parametrize("placeholder", [None, SCAFFOLD])
def test_placeholder_is_not_solved_yet(placeholder: Any) -> None:
    result = nb00.check_event_names(placeholder)
    assert not result.solved and not result.attempted
    assert str(result).startswith("… Not solved yet")
    assert result.hints


@pytest.mark.parametrize(
    ("answers", "says"),
    [
        ({**solution.EVENT_NAMES, "ChargePayment": "ChargePayment"}, "that is the command itself"),
        ({**solution.EVENT_NAMES, "ReserveStock": "StockReserve"}, "not in the past tense"),
        ({**solution.EVENT_NAMES, "ReserveStock": "ReservedStock"}, "the thing first, then the verb"),
        ({**solution.EVENT_NAMES, "CancelOrder": "order_cancelled"}, "not a PascalCase class name"),
        ({**solution.EVENT_NAMES, "ChargePayment": "OrderPaid"}, "not the event the shop records"),
        ({**solution.EVENT_NAMES, "CancelOrder": None}, "CancelOrder: still empty"),
        ({"CancelOrder": "OrderCancelled"}, "no answer for ReserveStock, ChargePayment"),
        (["OrderCancelled"], "expected a dict"),
    ],
)
def test_wrong_answers_say_what_is_wrong(answers: Any, says: str) -> None:
    result = nb00.check_event_names(answers)
    assert not result.solved and result.attempted
    assert says in result.message


def test_american_spelling_is_accepted() -> None:
    assert nb00.check_event_names({**solution.EVENT_NAMES, "CancelOrder": " OrderCanceled "}).solved


def test_partial_answer_counts_what_is_right() -> None:
    result = nb00.check_event_names({**SCAFFOLD, "CancelOrder": "OrderCancelled"})
    assert result.message.startswith("1 of 3 right")


def test_the_expected_events_are_ones_the_shop_records() -> None:
    recorded = {cls.__name__ for cls in ALL_EVENTS}
    assert set(nb00.COMMANDS.values()) <= recorded
