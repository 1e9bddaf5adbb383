"""Notebook 11's two deploy cells can be run again without restarting the kernel (each has its own registry)."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

from tools.solved_notebooks import KERNEL_STARTUP_S

ROOT = Path(__file__).resolve().parents[3]
DEPLOY_CELLS = ("3403d466", "09482e88")  # deploy 1 (no upcaster: parked) and deploy 2 (upcaster: redriven)


def test_the_deploy_cells_pass_again_when_run_a_second_time(rabbitmq_url: str) -> None:
    notebook = nbformat.read(ROOT / "notebooks" / "11_event_versioning.ipynb", as_version=4)
    code = [i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code"]
    by_id = {notebook.cells[i].get("id"): i for i in code}
    assert set(DEPLOY_CELLS) <= set(by_id), "the deploy cells' ids changed: update DEPLOY_CELLS"
    last_deploy = code.index(by_id[DEPLOY_CELLS[-1]])
    plan = code[: last_deploy + 1] + [by_id[c] for c in DEPLOY_CELLS] + code[last_deploy + 1:]
    client = NotebookClient(notebook, timeout=120, kernel_name="python3", startup_timeout=KERNEL_STARTUP_S,
                            resources={"metadata": {"path": str(ROOT / "notebooks")}})
    with client.setup_kernel():
        for index in plan:  # raises CellExecutionError, with the traceback, if any cell fails
            client.execute_cell(notebook.cells[index], index)
