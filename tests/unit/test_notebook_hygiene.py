"""Every committed notebook is stripped of outputs and uses the python3 kernel (see tools/notebooks.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tools.notebooks import problems

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_clean(path: Path) -> None:
    assert problems(path) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_prose_lives_in_markdown_cells_not_in_code_comments(path: Path) -> None:
    """A heading commented out in a code cell renders as code: the learner loses the section and its text."""
    cells = json.loads(path.read_text())["cells"]
    headings = [f"cell {i}: {line.strip()}" for i, cell in enumerate(cells) if cell["cell_type"] == "code"
                for line in "".join(cell["source"]).splitlines() if re.match(r"#\s*#{1,6}\s+\w", line)]
    assert headings == [], "move these headings (and their paragraphs) into a markdown cell"
