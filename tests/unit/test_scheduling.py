"""How `make test` shares the run among its workers: in whole units, slowest first, each in its own order."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from tests.conftest import pytest_xdist_make_scheduler
from tests.scheduling import NotebookGroupScheduling, slowest_first, unit_of


def items(*nodeids: str) -> list[Any]:
    """Fake items: ``file::test`` or ``file::test[NN...]`` (notebook NN as the first, ``number``, parameter)."""
    made = []
    for nodeid in nodeids:
        number = nodeid.partition("[")[2][:2] or None
        made.append(SimpleNamespace(nodeid=nodeid, callspec=SimpleNamespace(params={"number": number})
                                    if number else None))
    return made


def test_the_slow_units_go_first_and_each_unit_stays_whole_and_in_order() -> None:
    collected = items("tests/unit/test_clock.py::a", "tests/browser/test_notebook_05.py::b",
                      "notebooks/01_x.ipynb::Cell 0", "notebooks/01_x.ipynb::Cell 1",
                      "tests/integration/test_solved_notebooks.py::c[00]", "tests/integration/kafka/test_k.py::d",
                      "tests/integration/test_solved_notebooks.py::c[07]", "tests/unit/test_clock.py::e",
                      "tests/browser/test_notebook_07.py::f")
    slowest_first(collected)
    assert [item.nodeid for item in collected] == [
        "tests/integration/test_solved_notebooks.py::c[07]", "tests/browser/test_notebook_07.py::f",
        "tests/browser/test_notebook_05.py::b", "tests/integration/test_solved_notebooks.py::c[00]",
        "tests/integration/kafka/test_k.py::d", "notebooks/01_x.ipynb::Cell 0", "notebooks/01_x.ipynb::Cell 1",
        "tests/unit/test_clock.py::a", "tests/unit/test_clock.py::e"]


@pytest.mark.parametrize(("nodeid", "unit"), [
    ("notebooks/01_x.ipynb::Cell 0", "notebooks/01_x.ipynb"),
    ("notebooks/01_x.ipynb::Cell 12", "notebooks/01_x.ipynb"),
    ("tests/unit/test_exercises_all.py::test_wrong[05-raw_consumer-6]", "tests/unit/test_exercises_all.py::05"),
    ("tests/unit/test_exercises_all.py::test_hints[05-raw_consumer]", "tests/unit/test_exercises_all.py::05"),
    ("tests/unit/test_exercises_all.py::test_layout", "tests/unit/test_exercises_all.py"),
    ("tests/integration/test_solved_notebooks.py::test_solved[12]", "tests/integration/test_solved_notebooks.py::12"),
    ("tests/unit/test_kafka_exercises.py::test_t[05-x]", "tests/unit/test_kafka_exercises.py"),
    ("tests/browser/test_notebook_07.py::test_board", "tests/browser/test_notebook_07.py"),
])
def test_a_notebook_stays_in_one_unit_and_the_files_that_rerun_every_notebook_split_per_notebook(
        nodeid: str, unit: str) -> None:
    assert unit_of(nodeid) == unit


def test_a_split_test_whose_first_parameter_is_not_the_notebook_is_refused() -> None:
    stray = SimpleNamespace(nodeid="tests/unit/test_exercises_all.py::test_x[poll_loop-07]",
                            callspec=SimpleNamespace(params={"name": "poll_loop", "number": "07"}))
    with pytest.raises(pytest.UsageError, match="first parameter"):
        slowest_first([stray])  # type: ignore[list-item]


def test_loadfile_runs_with_the_notebook_split_and_other_modes_are_left_to_xdist() -> None:
    def config(dist: str) -> Any:
        return SimpleNamespace(getvalue=lambda name: {"dist": dist, "tx": ["4*popen"]}.get(name),
                               option=SimpleNamespace(loadscopereorder=False))

    assert pytest_xdist_make_scheduler(config("load"), log=None) is None
    scheduler = pytest_xdist_make_scheduler(config("loadfile"), log=None)
    assert isinstance(scheduler, NotebookGroupScheduling)
    assert scheduler._split_scope("tests/integration/test_solved_notebooks.py::t[07]") == \
        "tests/integration/test_solved_notebooks.py::07"
