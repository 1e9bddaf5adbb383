"""Notebooks 07–08 checks: reference solutions pass, placeholders are "not solved yet", wrong answers fail."""

from __future__ import annotations

from typing import Any

import pytest

from course_lib.exercises import nb07, nb08
from solutions import nb07 as solution07
from solutions import nb08 as solution08
from solutions.wrong import nb08 as wrong08

MODULES = [(nb07, solution07), (nb08, solution08)]
ALL = [(module, solution, name) for module, solution in MODULES for name in sorted(module.CHECKS)]


@pytest.mark.parametrize(("module", "solution"), MODULES)
def test_every_check_has_a_reference_solution(module: Any, solution: Any) -> None:
    assert set(solution.ANSWERS) == set(module.CHECKS)


@pytest.mark.parametrize(("module", "solution", "name"), ALL)
def test_reference_solution_passes(module: Any, solution: Any, name: str) -> None:
    result = module.CHECKS[name](solution.ANSWERS[name])
    assert result.solved, str(result)


@pytest.mark.parametrize(("module", "solution", "name"), ALL)
def test_placeholder_is_not_solved_yet(module: Any, solution: Any, name: str) -> None:
    result = module.CHECKS[name](None)
    assert not result.solved and not result.attempted
    assert str(result).startswith("… Not solved yet") and result.hints


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (lambda e: e["customer_id"], "share only"),
        (lambda e: e["order_id"] + e["type"], "got different keys"),
        (lambda e: 7, "must be str"),
        ("order_id", "must be a function"),
    ],
)
def test_wrong_keys_are_explained(answer: Any, says: str) -> None:
    result = nb07.check_key_for(answer)
    assert result.attempted and not result.solved
    assert says in result.message


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (lambda committed, start, end: {p: end[p] - committed[p] for p in end}, "raised KeyError"),
        (lambda committed, start, end: {p: end[p] - committed.get(p, 0) - 1 for p in end}, "not the distance"),
        (lambda committed, start, end: {p: end[p] for p in committed}, "not the distance"),
        (lambda committed, start, end: {p: end[p] - committed.get(p, 0) for p in end}, "counted from offset 0"),
        (lambda committed, end: {p: end[p] - committed.get(p, 0) for p in end}, "raised TypeError"),
    ],
)
def test_wrong_lag_is_explained(answer: Any, says: str) -> None:
    result = nb07.check_lag(answer)
    assert result.attempted and not result.solved
    assert says in result.message


@pytest.mark.parametrize(
    ("mistake", "says"),
    [
        (wrong08.WatermarkFromCurrentEvent, "watermark went backwards"),
        (wrong08.DropsLateEvents, "dropped silently"),
        (wrong08.GraceOnTheWrongSide, "too early"),
        (wrong08.LateByEventTime, "is not final yet"),
        (wrong08.EndInclusive, "includes its start, not its end"),
        (lambda size, grace: [], "needs a `late` list"),
    ],
)
def test_wrong_windows_are_explained(mistake: Any, says: str) -> None:
    result = nb08.check_revenue_windows(mistake)
    assert result.attempted and not result.solved
    assert says in result.message


def test_each_wrong_window_rule_differs_from_a_right_one_in_one_step() -> None:
    """The wrong answers override one step of ``_Rule``; unchanged, that rule must pass, or they prove nothing."""
    assert nb08.check_revenue_windows(wrong08._Rule).solved
