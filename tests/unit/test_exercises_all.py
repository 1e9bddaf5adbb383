"""Audit of every notebook's exercise: the notebook calls each check, the placeholder gives "not solved yet",
the reference solution in ``solutions/`` passes, and a per-notebook test feeds wrong answers to the checks.

Wrong answers are tested where each check is written (``tests/unit/test_*exercise*.py`` and friends); this file
only checks that such a test exists, so the two never drift apart.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import nbformat
import pytest

from course_lib.exercises import CheckResult

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = {path.name[:2]: path for path in sorted((ROOT / "notebooks").glob("[01][0-9]_*.ipynb"))
             if int(path.name[:2]) <= 12}

# The name each reference solution has in solutions/nbNN.py, by (notebook, check name). The solution modules name
# their answers after what the learner writes (a constant, a class or a function), not after the check.
SOLUTION_NAMES: dict[tuple[str, str], str] = {
    ("00", "event_names"): "EVENT_NAMES",
    ("01", "event_design"): "OrderDeliveryAddressChanged",
    ("02", "save_with_retry"): "save_with_retry",
    ("03", "cart"): "cart",
    ("04", "sku_units"): "SkuUnits",
    ("05", "inventory_bindings"): "INVENTORY_KEYS",
    ("06", "idempotent_payments"): "PaymentTotals",
    ("07", "key_for"): "key_for",
    ("07", "lag"): "lag",
    ("08", "revenue_per_window"): "revenue_per_window",
    ("09", "gift_wrap"): "add_gift_wrap",
    ("10", "credit_payment"): "credit_payment",
    ("11", "upcast_payment"): "upcast_payment_v1",
    ("12", "money_problems"): "money_problems",
}


def _checks(number: str) -> tuple[ModuleType, dict[str, Any]]:
    module = importlib.import_module(f"course_lib.exercises.nb{number}")
    checks = getattr(module, "CHECKS", None)
    assert isinstance(checks, dict) and checks, f"course_lib/exercises/nb{number}.py must list its checks in CHECKS"
    return module, checks


ALL_CHECKS = [(number, name) for number in NOTEBOOKS for name in _checks(number)[1]]


def test_every_notebook_00_to_12_that_exists_has_an_exercise_module() -> None:
    assert len(NOTEBOOKS) >= 12, sorted(NOTEBOOKS)
    for number in NOTEBOOKS:
        assert (ROOT / "course_lib" / "exercises" / f"nb{number}.py").exists(), f"notebook {number}: no checks"
        assert (ROOT / "solutions" / f"nb{number}.py").exists(), f"notebook {number}: no reference solution"


def _code_cells(number: str) -> list[str]:
    notebook = nbformat.read(NOTEBOOKS[number], as_version=4)
    return [cell.source for cell in notebook.cells if cell.cell_type == "code"]


@pytest.mark.parametrize(("number", "name"), ALL_CHECKS)
def test_the_notebook_has_a_scaffold_cell_that_calls_the_check(number: str, name: str) -> None:
    check = _checks(number)[1][name]
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
def test_the_placeholder_is_not_solved_yet(number: str, name: str) -> None:
    result = _checks(number)[1][name](None)
    assert isinstance(result, CheckResult)
    assert not result.solved and not result.attempted, result
    assert str(result).startswith("… Not solved yet: ") and result.hints, result


@pytest.mark.parametrize(("number", "name"), ALL_CHECKS)
def test_the_reference_solution_passes(number: str, name: str) -> None:
    assert (number, name) in SOLUTION_NAMES, \
        f"add the name of check {name!r}'s answer in solutions/nb{number}.py to SOLUTION_NAMES"
    solution = importlib.import_module(f"solutions.nb{number}")
    answer = getattr(solution, SOLUTION_NAMES[number, name])
    result = _checks(number)[1][name](answer)
    assert result.solved, result


def _test_sources() -> dict[Path, str]:
    here = Path(__file__).resolve()
    return {path: path.read_text() for path in (ROOT / "tests" / "unit").glob("test_*.py") if path != here}


@pytest.mark.parametrize("number", sorted(NOTEBOOKS))
def test_a_per_notebook_test_feeds_wrong_answers_to_the_checks(number: str) -> None:
    uses = re.compile(rf"(course_lib\.exercises\.nb{number}\b|from course_lib\.exercises import [\w, ]*\bnb{number}\b)")
    owners = [path for path, text in _test_sources().items() if uses.search(text)]
    assert owners, f"no unit test imports course_lib.exercises.nb{number}: add one that feeds it wrong answers"
    text = "\n".join(_test_sources()[path] for path in owners)
    assert re.search(rf"solutions(\.nb{number}\b| import [\w, ]*\bnb{number}\b)", text), \
        f"the tests of nb{number}'s checks ({[p.name for p in owners]}) do not feed the reference solution"
    assert re.search(r"assert not \w|\.solved is False|not result\.solved|\.attempted", text), \
        f"the tests of nb{number}'s checks ({[p.name for p in owners]}) never assert that an answer fails"
