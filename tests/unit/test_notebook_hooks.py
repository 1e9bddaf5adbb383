"""The nbstripout pre-commit hook and ``python -m tools.notebooks strip`` agree, so either keeps notebooks clean."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT
from tools.notebooks import problems, strip
from tools.schema_check import load_yaml

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _hook(hook_id: str) -> dict[str, Any]:
    config = load_yaml(ROOT / ".pre-commit-config.yaml")
    hooks = [hook for repo in config["repos"] for hook in repo["hooks"]]
    return next(hook for hook in hooks if hook["id"] == hook_id)


def _run_nbstripout(paths: list[Path]) -> None:
    program, *args = shlex.split(_hook("nbstripout")["entry"])
    nbstripout = Path(sys.executable).parent / program
    assert nbstripout.exists(), "nbstripout is installed by `make setup-dev`"
    subprocess.run([str(nbstripout), *args, *map(str, paths)], check=True, timeout=120)


def test_the_hook_is_nbstripout_pinned_like_the_venv() -> None:
    hook = _hook("nbstripout")
    assert hook["additional_dependencies"] == ["nbstripout==0.9.1"]
    assert "nbstripout==0.9.1" in (ROOT / "constraints.txt").read_text().splitlines()
    assert "--keep-id" in hook["entry"], "cell ids stay stable, as tools.notebooks keeps them"


def test_committed_notebooks_are_left_unchanged_by_the_hook(tmp_path: Path) -> None:
    copies = []
    for path in NOTEBOOKS:
        copies.append(Path(shutil.copy(path, tmp_path / path.name)))
    _run_nbstripout(copies)
    changed = [c.name for c in copies if c.read_text() != (ROOT / "notebooks" / c.name).read_text()]
    assert changed == []


def _with_outputs(source: Path, target: Path, *, keep_marked: bool) -> Path:
    notebook = json.loads(source.read_text())
    code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    for number, cell in enumerate(code, 1):
        cell["execution_count"] = number
        cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": [f"out {number}\n"]}]
        cell["metadata"]["execution"] = {"iopub.status.busy": "2026-01-01T00:00:00Z"}
    if keep_marked:
        code[0]["source"] = ["# NBVAL_CHECK_OUTPUT\n", *code[0]["source"]]
        code[0]["metadata"]["keep_output"] = True
        code[0]["execution_count"] = None
    target.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n")
    return target


@pytest.mark.parametrize("keep_marked", [False, True], ids=["plain", "with-a-checked-output"])
def test_a_run_notebook_stripped_either_way_ends_the_same_and_clean(tmp_path: Path, keep_marked: bool) -> None:
    source = ROOT / "notebooks" / "01_events_as_facts.ipynb"
    by_hook = _with_outputs(source, tmp_path / "hook.ipynb", keep_marked=keep_marked)
    by_tool = _with_outputs(source, tmp_path / "tool.ipynb", keep_marked=keep_marked)
    assert problems(by_tool), "the fixture has outputs to strip"
    _run_nbstripout([by_hook])
    strip(by_tool)
    assert json.loads(by_hook.read_text()) == json.loads(by_tool.read_text())
    assert problems(by_hook) == []
