"""The Makefile's help and clean, the learner/contributor split, and the LICENSE: what a new learner meets first."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from tests.conftest import ROOT


def _make(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "MAKEFLAGS"}
    return subprocess.run(["make", "--no-print-directory", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=60)


def test_make_help_lists_every_target_and_is_the_default() -> None:
    makefile = (ROOT / "Makefile").read_text()
    phony = re.search(r"^\.PHONY:(.*?)(?<!\\)\n", makefile, re.S | re.M).group(1)  # type: ignore[union-attr]
    targets = set(phony.replace("\\", " ").split())
    for shown in (_make("help").stdout, _make().stdout):
        listed = set(re.findall(r"^  make (\S+)", shown, re.M))
        assert listed == targets, f"missing from help: {targets - listed}; not phony: {listed - targets}"


def _installs(*args: str) -> list[str]:
    planned = _make("-n", *args, "VENV=/nonexistent/venv").stdout
    return [" ".join(line.split()) for line in planned.splitlines() if " install " in line]


def test_lab_installs_the_learner_set_with_a_pinned_uv_and_test_installs_everything() -> None:
    assert _installs("lab") == [
        "test -x /nonexistent/venv/bin/uv || { echo \"installing the pinned uv into /nonexistent/venv\"; "
        "/nonexistent/venv/bin/python -m pip install --disable-pip-version-check -c constraints.txt uv; }",
        "/nonexistent/venv/bin/uv pip install --python /nonexistent/venv/bin/python -c constraints.txt "
        "-e '.[postgres]'",
        '/nonexistent/venv/bin/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 '
        '(course)"',
    ], "the learner gets the runtime and notebooks only, with the installers' progress (no --quiet)"
    assert _installs("lab", "INSTALLER=pip")[0] == ("/nonexistent/venv/bin/python -m pip install "
                                                    "--disable-pip-version-check -c constraints.txt -e '.[postgres]'")
    assert any(line.endswith("-c constraints.txt -e '.[postgres,bench,dev]'") for line in _installs("test"))


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """The files `make clean` reads, in a folder of their own (clean deletes .venv, .course_state and artifacts)."""
    for name in ("Makefile", "pyproject.toml", "constraints.txt"):
        shutil.copy(ROOT / name, tmp_path / name)
    for folder in (".course_state", "artifacts"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "x").write_text("x")
    return tmp_path


def test_make_clean_works_with_a_broken_venv(project_copy: Path) -> None:
    broken = project_copy / ".venv" / "bin"
    broken.mkdir(parents=True)
    (broken / "python").symlink_to(project_copy / "no-such-interpreter")  # a venv whose Python was removed
    (project_copy / ".course_state" / "kafka-broker.pid").write_text('{"pid": 12345, "create_time": 1.0}')
    done = _make("clean", cwd=project_copy)
    assert done.returncode == 0, done.stderr
    assert "was not stopped" in done.stdout and '"pid": 12345' in done.stdout, "says what to stop by hand"
    assert not any((project_copy / name).exists() for name in (".venv", ".course_state", "artifacts"))


def test_make_clean_works_without_any_venv(project_copy: Path) -> None:
    done = _make("clean", cwd=project_copy)
    assert done.returncode == 0, done.stderr
    assert not (project_copy / ".course_state").exists()


def test_the_license_file_is_the_one_pyproject_names() -> None:
    license_name = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["license"]["text"]
    text = (ROOT / "LICENSE").read_text()
    assert license_name == "MIT" and text.startswith("MIT License\n")
    assert "Permission is hereby granted, free of charge" in text
