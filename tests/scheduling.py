"""The order in which `make test` hands files to its pytest-xdist workers: the longest files first.

``--dist loadfile`` gives a worker a whole file at a time, so a notebook's cells run in order in one kernel and a
module's fixtures are built once. Which file goes when decides the run's tail: xdist's own order (files with the
most tests first) started the notebooks, hundreds of quick cells, and left the browser tests and the
solved-notebook file — a few tests of 20-70 s each, 4 minutes for the solved notebooks — to the end, where one
worker ran them while the other sat idle. Here the files that take longest go first and the quick unit files fill
the gaps at the end. Run with ``--no-loadscope-reorder`` so xdist keeps this order.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Lower starts earlier; measured with `pytest --durations` on the 2-core CI machine: the solved notebooks
# about 240 s in all, a browser test 12-70 s, the install test 20 s, a notebook 3-45 s, an integration file mostly
# under 10 s, a unit file mostly under 2 s.
_RANK = (
    ("tests/integration/test_solved_notebooks.py", 0),
    ("tests/browser/", 1),
    ("tests/install/", 2),
    ("tests/integration/test_notebooks_without_postgres.py", 2),
    ("notebooks/", 3),
    ("tests/integration/", 4),
    ("tests/unit/test_exercises_all.py", 4),
    ("tests/", 5),
)


def file_of(item: pytest.Item) -> str:
    """``item``'s file, relative to the project (the unit ``--dist loadfile`` schedules)."""
    path = Path(str(item.fspath)).resolve()
    return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.as_posix()


def rank_of(file: str) -> int:
    """How early ``file`` should start: the first matching prefix's rank."""
    return next((rank for prefix, rank in _RANK if file.startswith(prefix)), len(_RANK))


def longest_first(items: list[pytest.Item]) -> None:
    """Order the files by rank, keeping the collection order within a rank and within each file."""
    first_seen: dict[str, int] = {}
    for index, item in enumerate(items):
        first_seen.setdefault(file_of(item), index)
    items.sort(key=lambda item: (rank_of(file_of(item)), first_seen[file_of(item)]))
