"""The course's JupyterLab does not ask about Jupyter news: its announcements plugin is disabled by page config.

The page config is computed here as the Lab server computes it (``jupyterlab_server.config.get_page_config``);
the browser test of notebook 00 checks in a real Lab that no news toast appears.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jupyterlab_server.config import get_page_config

from course_lib.labconfig import ANNOUNCEMENTS_PLUGIN, lab_command, lab_environment


def _disabled(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> list[str]:
    """The plugins the Lab front end is told to leave off, under ``env``'s JUPYTER_CONFIG_PATH."""
    monkeypatch.setenv("JUPYTER_CONFIG_PATH", env.get("JUPYTER_CONFIG_PATH", ""))
    return list(get_page_config([], None)["disabledExtensions"])


def test_the_course_lab_disables_the_news_question_and_a_plain_lab_would_ask(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(tmp_path / "user"))  # no learner config in the way
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    assert ANNOUNCEMENTS_PLUGIN in _disabled(monkeypatch, lab_environment(tmp_path / "course", {}))
    assert ANNOUNCEMENTS_PLUGIN not in _disabled(monkeypatch, {})  # the control: a plain Lab would ask


def test_the_lab_command_puts_the_course_config_first_and_keeps_the_learners_own(tmp_path: Path) -> None:
    env = lab_environment(tmp_path / "cfg", {"JUPYTER_CONFIG_PATH": "/theirs", "HOME": "/home/x"})
    assert env["JUPYTER_CONFIG_PATH"].split(":") == [str(tmp_path / "cfg"), "/theirs"] and env["HOME"] == "/home/x"
    written = json.loads((tmp_path / "cfg" / "labconfig" / "page_config.json").read_text())
    assert written == {"disabledExtensions": {ANNOUNCEMENTS_PLUGIN: True}}
    command = lab_command("notebooks/00_start_here.ipynb", no_browser=True)
    assert command[1:4] == ["-m", "jupyter", "lab"] and "--ServerApp.ip=127.0.0.1" in command
    assert "notebooks/00_start_here.ipynb" in command and "--no-browser" in command
