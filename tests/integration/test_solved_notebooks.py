"""Every notebook, run with its reference solutions in place of the learner's placeholders: every check passes.

This proves the other direction of the nbval runs (which leave the exercises unanswered): the scaffold cells,
the checks and ``solutions/`` agree, and a solved exercise breaks no later cell. Like the notebook tests it needs
the real services (every notebook starts from the doctor's or the brokers' cells), and each passing check is
recorded in a private progress file, which is how the test knows the checks really ran in the kernel.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from course_lib import progress
from tools.solved_notebooks import NOTEBOOKS, run

NUMBERS = sorted(path.name[:2] for path in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.slow
@pytest.mark.rabbitmq
@pytest.mark.kafka
@pytest.mark.parametrize("number", NUMBERS)
def test_every_check_passes_with_the_reference_solutions(number: str, rabbitmq_url: str, kafka_bootstrap: str,
                                                         postgres_url: str, tmp_path: Path) -> None:
    progress_file = tmp_path / "progress.json"
    executed = run(number, progress_file)
    checks = importlib.import_module(f"course_lib.exercises.nb{number}").CHECKS
    passed = progress.load(progress_file)
    assert {check.exercise_id for check in checks.values()} <= set(passed), sorted(passed)
    outputs = "".join(output.get("text", "") for cell in executed.cells if cell.cell_type == "code"
                      for output in cell.get("outputs", []))
    assert all(f"solved: {name}\n" in outputs for name in checks), outputs[-2000:]
