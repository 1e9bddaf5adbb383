"""Run a notebook with its reference solutions put in place of the learner's placeholders; every check must pass.

How ``solutions/`` maps to a notebook's cells: each check in ``course_lib.exercises.nbNN.CHECKS`` is first called
in the exercise's scaffold cell as ``check_x(ANSWER, ...)``, where ``ANSWER`` is the learner's variable (still
``None``). Just before that call we assign ``ANSWER = solutions.nbNN.ANSWERS[name]``, and right after the cell we
add one that calls the check again and asserts it is solved. The rest of the notebook runs unchanged, so a
solution that breaks a later cell fails here too.

    python -m tools.solved_notebooks 03 04     # run those notebooks solved (default: all); exit 1 on a failure
"""

from __future__ import annotations

import importlib
import os
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"


@dataclass(frozen=True)
class Substitution:
    """Where one check's answer goes: the cell, the learner's variable, and the call to repeat."""

    name: str
    cell: int
    variable: str
    call: str


def _call_at(source: str, start: int) -> str:
    """The call expression starting at ``start`` (``check_x(`` …), up to its closing parenthesis."""
    depth = 0
    for index in range(source.index("(", start), len(source)):
        depth += {"(": 1, ")": -1}.get(source[index], 0)
        if depth == 0:
            return source[start:index + 1]
    raise ValueError(f"unbalanced call in {source[start:start + 80]!r}")


def substitutions(notebook: nbformat.NotebookNode, number: str) -> list[Substitution]:
    """The scaffold call of every check of notebook ``number``."""
    checks = importlib.import_module(f"course_lib.exercises.nb{number}").CHECKS
    found = []
    for name, check in checks.items():
        pattern = re.compile(rf"(?<![\w.]){check.__name__}\((\w+)")
        for index, cell in enumerate(notebook.cells):
            match = pattern.search(cell.source) if cell.cell_type == "code" else None
            if match:
                found.append(Substitution(name, index, match.group(1), _call_at(cell.source, match.start())))
                break
        else:
            raise LookupError(f"notebook {number} never calls {check.__name__}(answer)")
    return found


def solved_notebook(number: str) -> nbformat.NotebookNode:
    """Notebook ``number`` with the reference answers assigned and every check asserted."""
    path = next(NOTEBOOKS.glob(f"{number}_*.ipynb"))
    notebook = nbformat.read(path, as_version=4)
    for sub in sorted(substitutions(notebook, number), key=lambda s: s.cell, reverse=True):
        cell = notebook.cells[sub.cell]
        lines = cell.source.split("\n")
        at = next(i for i, line in enumerate(lines) if sub.call.split("\n")[0] in line)
        indent = re.match(r"\s*", lines[at]).group(0)  # type: ignore[union-attr]
        lines.insert(at, f"{indent}{sub.variable} = __import__('solutions.nb{number}', "
                         f"fromlist=['ANSWERS']).ANSWERS[{sub.name!r}]")
        cell.source = "\n".join(lines)
        notebook.cells.insert(sub.cell + 1, nbformat.v4.new_code_cell(
            f"_verdict = {sub.call}\nassert _verdict.solved, str(_verdict)\nprint('solved:', {sub.name!r})"))
    return notebook


KERNEL_STARTUP_S = 180
"""How long a kernel may take to start, as nbval is given in the Makefile (``--nbval-kernel-startup-timeout``): on a
busy machine, beside five other test workers, a start has taken over a minute (nbclient's default is 60 s)."""


def run(number: str, progress_file: Path, timeout_s: int = 120) -> nbformat.NotebookNode:
    """Execute the solved notebook in ``notebooks/`` with this checkout's ``course_lib``; raises on a failed cell."""
    notebook = solved_notebook(number)
    previous = {key: os.environ.get(key) for key in ("PYTHONPATH", "COURSE_PROGRESS_FILE")}
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), previous["PYTHONPATH"]) if p)
    os.environ["COURSE_PROGRESS_FILE"] = str(progress_file)
    try:
        NotebookClient(notebook, timeout=timeout_s, kernel_name="python3", startup_timeout=KERNEL_STARTUP_S,
                       resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return notebook


def main(argv: list[str]) -> int:
    numbers = argv or sorted(p.name[:2] for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    failed = []
    for number in numbers:
        with tempfile.TemporaryDirectory() as tmp:
            try:
                run(number, Path(tmp) / "progress.json")
                print(f"{number}: every check passes with the reference solutions")
            except Exception as exc:  # report every notebook, then fail
                failed.append(number)
                print(f"{number}: FAILED — {type(exc).__name__}: {str(exc)[-2000:]}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
