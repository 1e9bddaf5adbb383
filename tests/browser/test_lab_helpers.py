"""The browser helpers' own logic, without a browser: how Chromium is found or installed."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.browser import lab


class FakeApt:
    """Stands in for apt-get: records the commands and "installs" chromium on the install step."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.commands: list[list[str]] = []
        self.installed = False
        self.fail_on = fail_on

    def which(self, name: str) -> str | None:
        if name == "chromium":
            return "/usr/bin/chromium" if self.installed else None
        return f"/usr/bin/{name}"

    def run(self, command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        self.commands.append(command)
        if self.fail_on and self.fail_on in command:
            return subprocess.CompletedProcess(command, 100, "", "E: Unable to locate package chromium")
        if "install" in command:
            self.installed = True
        return subprocess.CompletedProcess(command, 0, "", "")


@pytest.fixture
def apt(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> FakeApt:
    fake = FakeApt()
    monkeypatch.setattr(lab.shutil, "which", fake.which)
    monkeypatch.setattr(lab.subprocess, "run", fake.run)
    monkeypatch.setattr(lab, "_INSTALL_LOCK", tmp_path / "install.lock")
    monkeypatch.setattr(lab.os, "geteuid", lambda: 0)
    return fake


def test_installed_chromium_is_used_as_is(apt: FakeApt) -> None:
    apt.installed = True
    assert lab.ensure_chromium() == "/usr/bin/chromium"
    assert apt.commands == []


def test_missing_chromium_is_installed_with_apt_as_root(apt: FakeApt) -> None:
    assert lab.ensure_chromium() == "/usr/bin/chromium"
    assert [c[-1] for c in apt.commands] == ["update", "chromium"]
    assert apt.commands[1][-3:] == ["install", "-y", "chromium"]
    assert lab.ensure_chromium() == "/usr/bin/chromium" and len(apt.commands) == 2  # once per machine


def test_not_root_means_no_install(apt: FakeApt, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lab.os, "geteuid", lambda: 1000)
    assert lab.ensure_chromium() is None
    assert apt.commands == []


def test_a_failed_install_names_the_fix(apt: FakeApt) -> None:
    apt.fail_on = "install"
    with pytest.raises(lab.BrowserSetupError, match="apt-get install -y chromium"):
        lab.ensure_chromium()
