"""Audit of every notebook's exercises: the notebook calls each check, the placeholder gives "not solved yet" with
only the first hint, the reference solution in ``solutions/`` passes, and at least four plausible wrong answers
from ``solutions/wrong/`` are each rejected with feedback that does not give the solution away.

A check that runs the learner's code on a real broker is listed in its module's ``NEEDS`` with the service
fixture it needs: feeding it answers then takes that service (skipped locally when it is down, a failure in CI).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import nbformat
import pytest

from course_lib.exercises import LEVELS, Check, CheckResult, hint, reset_hints

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = {path.name[:2]: path for path in sorted((ROOT / "notebooks").glob("[01][0-9]_*.ipynb"))}
MIN_WRONG_ANSWERS = 4


@pytest.fixture(autouse=True)
def _hints_hidden() -> Iterator[None]:
    reset_hints()
    yield
    reset_hints()


def _module(kind: str, number: str) -> ModuleType:
    return importlib.import_module({"checks": "course_lib.exercises", "solutions": "solutions",
                                    "wrong": "solutions.wrong"}[kind] + f".nb{number}")


def _needs_service(request: pytest.FixtureRequest, number: str, name: str) -> None:
    fixture = getattr(_module("checks", number), "NEEDS", {}).get(name)
    if fixture:
        request.getfixturevalue(fixture)


def _checks(number: str) -> dict[str, Check]:
    checks = getattr(_module("checks", number), "CHECKS", None)
    assert isinstance(checks, dict) and checks, f"course_lib/exercises/nb{number}.py must list its checks in CHECKS"
    return checks


ALL_CHECKS = [(number, name) for number in NOTEBOOKS for name in _checks(number)]
WRONG_ANSWERS = [(number, name, index) for number, name in ALL_CHECKS
                 for index in range(len(getattr(_module("wrong", number), "WRONG", {}).get(name, [])))]


def test_every_notebook_has_an_exercise_module_a_solution_and_wrong_answers() -> None:
    assert len(NOTEBOOKS) == 15, sorted(NOTEBOOKS)
    for number in NOTEBOOKS:
        for folder in ("course_lib/exercises", "solutions", "solutions/wrong"):
            assert (ROOT / folder / f"nb{number}.py").exists(), f"notebook {number}: no {folder}/nb{number}.py"


def _code_cells(number: str) -> list[str]:
    notebook = nbformat.read(NOTEBOOKS[number], as_version=4)
    return [cell.source for cell in notebook.cells if cell.cell_type == "code"]


@pytest.mark.parametrize(("number", "name"), ALL_CHECKS)
def test_the_notebook_has_a_scaffold_cell_that_calls_the_check(number: str, name: str) -> None:
    check = _checks(number)[name]
    cells = _code_cells(number)
    assert any(f"course_lib.exercises.nb{number}" in cell for cell in cells), \
        f"notebook {number} does not import its checks from course_lib.exercises.nb{number}"
    calls = [i for i, cell in enumerate(cells) if re.search(rf"\b{check.__name__}\(", cell)]
    assert calls, f"notebook {number} never calls {check.__name__}"
    # the learner's answer starts as None: in the calling cell or in the code cell just before it
    placeholder = re.compile(r"(=|:)\s*None\b")
    assert any(placeholder.search(cells[i]) or (i and placeholder.search(cells[i - 1])) for i in calls), \
        f"notebook {number}: no `answer = None` placeholder next to the call of {check.__name__}"


@pytest.mark.parametrize(("number", "name"), ALL_CHECKS)
def test_each_check_declares_its_exercise(number: str, name: str) -> None:
    check = _checks(number)[name]
    assert isinstance(check, Check), f"declare {name} with @exercise(...) in course_lib/exercises/nb{number}.py"
    assert check.exercise_id == f"nb{number}.{name}"
    assert check.level in LEVELS and 1 <= check.minutes <= 60 and check.title
    concept, approach, skeleton = check.all_hints
    assert len({concept, approach, skeleton}) == 3 and all(len(h) > 30 for h in check.all_hints)


@pytest.mark.parametrize(("number", "name"), ALL_CHECKS)
def test_the_placeholder_is_not_solved_yet_and_shows_only_the_first_hint(number: str, name: str) -> None:
    check = _checks(number)[name]
    result = check(None)
    assert isinstance(result, CheckResult)
    assert not result.solved and not result.attempted, result
    assert result.hints == [check.all_hints[0]], result
    assert str(result).startswith("… Not solved yet: ") and check.all_hints[1] not in str(result)


@pytest.mark.parametrize(("number", "name"), ALL_CHECKS)
def test_hints_come_one_at_a_time_on_request(number: str, name: str) -> None:
    check = _checks(number)[name]
    concept, approach, skeleton = check.all_hints
    assert check(None).hints == [concept]
    second = check.hint()
    assert (second.number, second.text, second.more) == (2, approach, True)
    assert check(None).hints == [concept, approach]  # a later verdict keeps what was revealed
    third = hint(check.exercise_id)  # the module-level hint() shares the ladder
    assert (third.number, third.text, third.more) == (3, skeleton, False)  # type: ignore[union-attr]
    assert check.hint().text == skeleton  # asking again repeats the last one


@pytest.mark.parametrize(("number", "name"), ALL_CHECKS)
def test_the_reference_solution_passes(number: str, name: str, request: pytest.FixtureRequest) -> None:
    _needs_service(request, number, name)
    answers = _module("solutions", number).ANSWERS
    assert name in answers, f"solutions/nb{number}.py: ANSWERS has no entry for check {name!r}"
    result = _checks(number)[name](answers[name])
    assert result.solved, result
    assert result.hints == []


@pytest.mark.parametrize(("number", "name"), ALL_CHECKS)
def test_each_check_is_fed_at_least_four_wrong_answers(number: str, name: str) -> None:
    wrong = getattr(_module("wrong", number), "WRONG", {}).get(name, [])
    assert len(wrong) >= MIN_WRONG_ANSWERS, \
        f"solutions/wrong/nb{number}.py: {len(wrong)} wrong answers for {name!r}; write at least {MIN_WRONG_ANSWERS}"
    assert len({w.mistake for w in wrong}) == len(wrong), "each wrong answer names a different mistake"
    giveaways = getattr(_module("wrong", number), "GIVEAWAYS", {}).get(name, ())
    assert giveaways, f"solutions/wrong/nb{number}.py: list fragments of the solution for {name!r} in GIVEAWAYS"


def _gives_away(text: str, giveaways: tuple[str, ...]) -> list[str]:
    return [fragment for fragment in giveaways if fragment in text]


@pytest.mark.parametrize(("number", "name", "index"), WRONG_ANSWERS)
def test_a_wrong_answer_is_rejected_without_giving_the_solution_away(number: str, name: str, index: int,
                                                                    request: pytest.FixtureRequest) -> None:
    _needs_service(request, number, name)
    wrong_module = _module("wrong", number)
    case = wrong_module.WRONG[name][index]
    check = _checks(number)[name]
    result = check(case.answer)
    assert not result.solved, f"{name} accepted a wrong answer ({case.mistake}): {result}"
    assert result.attempted, f"{name} called a wrong answer ({case.mistake}) 'not attempted': {result}"
    leaked = _gives_away(str(result), wrong_module.GIVEAWAYS[name])
    assert not leaked, f"the feedback to '{case.mistake}' gives away {leaked}: {result}"


@pytest.mark.parametrize(("number", "name"), ALL_CHECKS)
def test_no_hint_gives_the_solution_away(number: str, name: str) -> None:
    check = _checks(number)[name]
    leaked = _gives_away("\n".join(check.all_hints), _module("wrong", number).GIVEAWAYS[name])
    assert not leaked, f"{check.exercise_id}'s hints contain the solution: {leaked}"


def test_the_wrong_answers_the_issue_names_are_among_them() -> None:
    mistakes = {(number, name): " ".join(w.mistake for w in _module("wrong", number).WRONG[name])
                for number, name in ALL_CHECKS}
    assert "INSERT OR REPLACE" in mistakes["04", "sku_units"]
    assert "check-then-act" in mistakes["10", "credit_payment"]


def test_an_unknown_exercise_id_gets_an_answer_not_an_error() -> None:
    answer = hint("nb02.no_such_thing")
    assert isinstance(answer, str) and "nb02.save_with_retry" in answer
