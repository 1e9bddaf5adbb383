"""The learning mechanics in the notebooks: predictions come before their experiment and are not answered in the
cell below them, exercises show a level and minutes, and notebook 00 shows the progress table.

The notebooks that have adopted the mechanics are listed here; add a notebook when it gets its prediction.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
WITH_PREDICTIONS = [f"{n:02d}" for n in range(15)]  # every notebook
NOTEBOOKS = {path.name[:2]: path for path in sorted((ROOT / "notebooks").glob("[01][0-9]_*.ipynb"))}
CREATES = re.compile(r"^(\w+) = Prediction\(", re.MULTILINE)


def _cells(number: str) -> list[nbformat.NotebookNode]:
    return list(nbformat.read(NOTEBOOKS[number], as_version=4).cells)


@pytest.mark.parametrize("number", WITH_PREDICTIONS)
def test_a_prediction_precedes_its_experiment_and_is_revealed_only_by_it(number: str) -> None:
    cells = _cells(number)
    made = [(i, name) for i, cell in enumerate(cells) if cell.cell_type == "code"
            for name in CREATES.findall(cell.source)]
    assert made, f"notebook {number} has no Prediction"
    for index, name in made:
        below = cells[index + 1]
        assert below.cell_type == "code" and re.search(rf"{name}\.choose\(.*\)\.lock\(\)", below.source), \
            f"notebook {number}: the cell below {name} should lock in a prediction from code (for nbval)"
        assert "reveal(" not in below.source and "assert" not in below.source, \
            f"notebook {number}: the cell below {name} answers the question"
        reveals = [i for i, cell in enumerate(cells) if f"{name}.reveal(" in cell.source]
        assert len(reveals) == 1 and reveals[0] >= index + 2, f"notebook {number}: {name} is revealed {reveals}"
        experiment = cells[reveals[0]].source
        assert "why=" in experiment, f"notebook {number}: {name}'s reveal does not say why"


@pytest.mark.parametrize("number", WITH_PREDICTIONS)
def test_each_exercise_heading_shows_level_and_minutes(number: str) -> None:
    headings = [line for cell in _cells(number) if cell.cell_type == "markdown"
                for line in cell.source.splitlines() if re.match(r"(#+ |\*\*)Exercise", line)]
    assert headings, f"notebook {number} has no exercise heading"
    for heading in headings:
        assert re.search(r"\(★{1,3}, about \d+ minutes\)", heading), heading


def test_notebook_00_shows_the_progress_table_and_hints_on_request() -> None:
    sources = "\n".join(cell.source for cell in _cells("00"))
    assert "progress.table()" in sources and "python -m course_lib progress" in sources
    assert 'hint("nb00.event_names")' in sources
