"""Every committed notebook is stripped of outputs and uses the python3 kernel (see tools/notebooks.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.notebooks import problems

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_clean(path: Path) -> None:
    assert problems(path) == []
