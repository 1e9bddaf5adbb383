"""Notebook hygiene: notebooks are committed without outputs, so a diff shows only what a person wrote.

The one exception is a cell whose first line is ``# NBVAL_CHECK_OUTPUT``: its output is deterministic (sanitized
by tests/nbval_sanitize.cfg) and nbval compares it, so it is kept. Give such a cell ``"keep_output": true`` in its
metadata too, so that the nbstripout pre-commit hook (.pre-commit-config.yaml) keeps it as well.

    python -m tools.notebooks strip [NOTEBOOK ...]   # strip in place (default: notebooks/*.ipynb)
    python -m tools.notebooks check [NOTEBOOK ...]   # exit 1 and list the problems
"""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
KEEP_MARK = "# NBVAL_CHECK_OUTPUT"


def _keeps_output(cell: dict[str, Any]) -> bool:
    source = "".join(cell.get("source", []))
    return source.lstrip().startswith(KEEP_MARK) or bool(cell.get("metadata", {}).get("keep_output"))


def problems(path: Path) -> list[str]:
    """What is wrong with one notebook's stored state."""
    notebook = json.loads(path.read_text())
    found = []
    kernel = notebook.get("metadata", {}).get("kernelspec", {}).get("name")
    if kernel != "python3":
        found.append(f"{path.name}: kernelspec is {kernel!r}, expected 'python3'")
    for index, cell in enumerate(notebook.get("cells", [])):
        if not cell.get("id"):
            found.append(f"{path.name} cell {index}: no cell id (run `python -m tools.notebooks strip`)")
        if cell.get("cell_type") != "code":
            continue
        if cell.get("outputs") and not _keeps_output(cell):
            found.append(f"{path.name} cell {index}: stored outputs (run `python -m tools.notebooks strip`)")
        if cell.get("execution_count") is not None and not _keeps_output(cell):
            found.append(f"{path.name} cell {index}: stored execution count")
    return found


def _new_id(taken: set[Any]) -> str:
    candidate = uuid.uuid4().hex[:8]
    return candidate if candidate not in taken else _new_id(taken)


def strip(path: Path) -> bool:
    """Remove outputs and execution counts (except NBVAL_CHECK_OUTPUT cells). True when the file changed."""
    text = path.read_text()
    notebook = json.loads(text)
    taken = {cell.get("id") for cell in notebook.get("cells", [])}
    for cell in notebook.get("cells", []):
        if not cell.get("id"):  # nbformat 4.5 requires one; new cells written by hand often lack it
            cell["id"] = _new_id(taken)
            taken.add(cell["id"])
        if cell.get("cell_type") == "code" and not _keeps_output(cell):
            cell["outputs"] = []
            cell["execution_count"] = None
        cell.get("metadata", {}).pop("execution", None)
    notebook.setdefault("metadata", {})["kernelspec"] = {
        "display_name": "Python 3", "language": "python", "name": "python3",
    }
    new = json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"
    if new != text:
        path.write_text(new)
        return True
    return False


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"strip", "check"}:
        print(__doc__)
        return 2
    paths = [Path(p) for p in argv[1:]] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    if argv[0] == "strip":
        for path in paths:
            if strip(path):
                print(f"stripped {path}")
        return 0
    found = [problem for path in paths for problem in problems(path)]
    print("\n".join(found) or "notebooks are clean")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
