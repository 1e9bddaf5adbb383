"""The order `make test` hands files to its workers: longest first, each file whole and in its own order."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from tests.scheduling import ROOT, longest_first


def items(*names: str) -> list[Any]:
    return [SimpleNamespace(fspath=ROOT / name.split("::")[0], name=name) for name in names]


def test_the_slow_files_go_first_and_each_file_stays_whole_and_in_order() -> None:
    collected = items("tests/unit/test_clock.py::a", "tests/browser/test_notebook_07.py::b",
                      "notebooks/01_x.ipynb::Cell 0", "notebooks/01_x.ipynb::Cell 1",
                      "tests/integration/test_solved_notebooks.py::c[00]", "tests/integration/kafka/test_k.py::d",
                      "tests/integration/test_solved_notebooks.py::c[01]", "tests/unit/test_clock.py::e")
    longest_first(collected)
    assert [item.name for item in collected] == [
        "tests/integration/test_solved_notebooks.py::c[00]", "tests/integration/test_solved_notebooks.py::c[01]",
        "tests/browser/test_notebook_07.py::b", "notebooks/01_x.ipynb::Cell 0", "notebooks/01_x.ipynb::Cell 1",
        "tests/integration/kafka/test_k.py::d", "tests/unit/test_clock.py::a", "tests/unit/test_clock.py::e"]
