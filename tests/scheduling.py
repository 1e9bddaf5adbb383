"""How `make test` shares the run among its pytest-xdist workers: in units that must stay whole, slowest first.

With ``--dist loadfile`` xdist gives a worker a whole file at a time, so a notebook's cells run in order in one
kernel and a module's fixtures are built once. ``tests/conftest.py`` swaps in ``NotebookGroupScheduling``, which
keeps every file whole but two: the files that run every notebook again — with its reference solutions, and
against its wrong answers — form one unit per notebook instead. Each notebook's tests there are independent of
the others', and whole, each of those files kept one worker busy for minutes after the others had finished.
(xdist's own ``loadgroup`` would do it with marks, but with pytest 9.2 its group suffix never reaches the node
ids, and every test becomes a unit of its own: a notebook's cells scattered over several kernels.)

Which unit goes when decides the run's tail, so the slowest start first and the quick unit files fill the gaps
at the end. Run with ``--no-loadscope-reorder`` so xdist keeps this order (its own puts the units with the most
tests first: the notebooks' hundreds of quick cells).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from xdist.scheduler import LoadScopeScheduling

ROOT = Path(__file__).resolve().parents[1]

SPLIT_BY_NOTEBOOK = ("tests/integration/test_solved_notebooks.py", "tests/unit/test_exercises_all.py")
"""Files whose tests take a notebook's ``number`` as their first parameter: one unit per notebook."""

_NOTEBOOK_PARAMETER = re.compile(r"\[(\d\d)[-\]]")

# Lower starts earlier; the first matching prefix of a unit counts. Measured with `pytest --durations` on the
# 2-core CI machine with four workers: notebook 07 is the slowest everywhere (a browser test of 60 s, its
# solutions 55 s, its nbval run 44 s, its wrong answers 50 s: consumer groups that join and rebalance), then
# notebook 12 (35 s and 31 s); another solved notebook takes 5-20 s, a browser test 10-35 s, a Kafka
# integration file 10-40 s, a notebook 3-15 s, an integration file mostly under 10 s, a unit file under 5 s.
_RANK = (
    ("tests/browser/test_notebook_07.py", 0),
    ("tests/integration/test_solved_notebooks.py::07", 0),
    ("notebooks/07_", 1),
    ("tests/browser/test_notebook_12.py", 1),
    ("tests/integration/test_solved_notebooks.py::12", 1),
    ("tests/unit/test_exercises_all.py::07", 1),
    ("tests/integration/test_solved_notebooks.py", 2),
    ("tests/browser/", 2),
    ("notebooks/12_", 3),
    ("tests/integration/kafka/", 3),
    ("tests/install/", 3),
    ("tests/integration/test_notebooks_without_postgres.py", 3),
    ("notebooks/", 4),
    ("tests/unit/test_exercises_all.py", 4),
    ("tests/integration/", 5),
    ("tests/", 6),
)


def unit_of(nodeid: str) -> str:
    """The unit a test is scheduled in: its file, or ``file::NN`` for notebook NN's tests in a split file."""
    file = nodeid.split("::", 1)[0]
    if file in SPLIT_BY_NOTEBOOK and (number := _NOTEBOOK_PARAMETER.search(nodeid)):
        return f"{file}::{number[1]}"
    return file


def rank_of(unit: str) -> int:
    """How early ``unit`` should start: the first matching prefix's rank."""
    return next((rank for prefix, rank in _RANK if unit.startswith(prefix)), len(_RANK))


def slowest_first(items: list[pytest.Item]) -> None:
    """Order the units by rank, keeping the collection order within a rank and within each unit."""
    for item in items:
        _check_unit(item)
    first_seen: dict[str, int] = {}
    for index, item in enumerate(items):
        first_seen.setdefault(unit_of(item.nodeid), index)
    items.sort(key=lambda item: (rank_of(unit_of(item.nodeid)), first_seen[unit_of(item.nodeid)]))


def _check_unit(item: pytest.Item) -> None:
    """A test of a split file whose notebook is not its first parameter would land in the wrong unit."""
    file = item.nodeid.split("::", 1)[0]
    callspec = getattr(item, "callspec", None)
    number = callspec.params.get("number") if callspec is not None else None
    if file in SPLIT_BY_NOTEBOOK and number is not None and unit_of(item.nodeid) != f"{file}::{number}":
        raise pytest.UsageError(f"{item.nodeid}: make `number` the first parameter, so tests/scheduling.py can "
                                f"schedule the test with the rest of notebook {number}")


class NotebookGroupScheduling(LoadScopeScheduling):
    """``--dist loadfile``, with the files in ``SPLIT_BY_NOTEBOOK`` split into one unit per notebook."""

    def _split_scope(self, nodeid: str) -> str:
        return unit_of(nodeid)
