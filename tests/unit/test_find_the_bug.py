"""Find the bug: each notebook's broken component, exactly as the notebook hands it over, fails its check.

A notebook whose exercise module lists checks in ``FIND_THE_BUG`` has, for each, a ``### Find the bug:`` heading
with level and minutes, a code cell marked ``# Broken on purpose: repair it`` that defines the broken component,
and a later cell that calls the check. The component is taken from the notebook's own cell (not from a copy), so
the notebook and the audit in ``solutions/wrong/`` cannot drift apart unnoticed.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import nbformat
import pytest

from course_lib.exercises import Check

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = {path.name[:2]: path for path in sorted((ROOT / "notebooks").glob("[01][0-9]_*.ipynb"))}
MARK = "# Broken on purpose: repair it"


def _find_the_bug(number: str) -> tuple[str, ...]:
    return tuple(getattr(importlib.import_module(f"course_lib.exercises.nb{number}"), "FIND_THE_BUG", ()))


CASES = [(number, name) for number in NOTEBOOKS for name in _find_the_bug(number)]


def _checks_by_function_name(number: str) -> dict[str, Check]:
    checks = importlib.import_module(f"course_lib.exercises.nb{number}").CHECKS
    return {check.__name__: check for check in checks.values()}


@pytest.mark.parametrize(("number", "name"), CASES)
def test_the_broken_component_as_given_fails_its_check(number: str, name: str) -> None:
    checks = _checks_by_function_name(number)
    assert name in checks, f"nb{number}.FIND_THE_BUG names {name}, which is not in CHECKS"
    cells = list(nbformat.read(NOTEBOOKS[number], as_version=4).cells)
    broken = [i for i, cell in enumerate(cells) if cell.cell_type == "code" and MARK in cell.source]
    calls = {i: next(j for j in range(i, len(cells)) if re.search(rf"\b{name}\(", cells[j].source))
             for i in broken if any(re.search(rf"\b{name}\(", c.source) for c in cells[i:])}
    mine = [i for i, j in calls.items() if all(not (i < k < j) for k in broken)]
    assert mine, f"notebook {number}: no cell marked {MARK!r} before the call of {name}"
    index = mine[0]
    headings = [line for cell in cells[:index] if cell.cell_type == "markdown" for line in cell.source.splitlines()
                if line.startswith("### Find the bug:")]
    assert headings and re.search(r"\(★{1,3}, about \d+ minutes\)", headings[-1]), headings
    source = cells[index].source
    defined = [node.name for node in ast.parse(source).body
               if isinstance(node, ast.FunctionDef | ast.ClassDef)]
    assert defined, f"notebook {number}: the broken cell defines nothing"
    namespace: dict[str, object] = {}
    exec(compile(source, f"notebook {number} cell {index}", "exec"), namespace)  # the notebook's own code
    result = checks[name](namespace[defined[-1]])
    assert result.attempted and not result.solved, f"the broken {defined[-1]} as given passes {name}: {result}"


def test_at_least_six_notebooks_hand_the_learner_a_broken_component() -> None:
    with_bugs = sorted({number for number, _ in CASES})
    assert len(with_bugs) >= 6, f"find-the-bug exercises in notebooks {with_bugs}: the course promises at least six"
