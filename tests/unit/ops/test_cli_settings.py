"""A malformed setting stops every command before it touches a service: one line per bad value, exit code 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from course_lib.config import get_settings
from course_lib.ops import cli_reset
from course_lib.ops.cli import main
from course_lib.widgets.doctor import DoctorPanel

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def broken_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Two malformed settings (one with a password) in this test's environment only."""
    monkeypatch.setenv("COURSE_EVENTSTORE_URL", "mysql://root:s3cret@127.0.0.1/shop")
    monkeypatch.setenv("COURSE_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _assert_two_clean_lines(err: str) -> None:
    assert err.startswith("error: 2 settings are malformed"), err
    lines = err.strip().splitlines()[1:]
    assert [line.split("=", 1)[0].strip() for line in lines] == [
        "COURSE_KAFKA_BOOTSTRAP_SERVERS", "COURSE_EVENTSTORE_URL",
    ]
    assert all(" — fix: " in line for line in lines)
    assert "s3cret" not in err and "Traceback" not in err and "pydantic" not in err


def test_doctor_prints_one_line_per_bad_setting_and_exits_2(
    broken_settings: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["doctor"]) == 2
    captured = capsys.readouterr()
    _assert_two_clean_lines(captured.err)
    assert captured.out == ""


def test_doctor_json_lists_the_bad_settings(broken_settings: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "--json"]) == 2
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is False
    assert [p["setting"] for p in out["settings_errors"]] == ["COURSE_KAFKA_BOOTSTRAP_SERVERS", "COURSE_EVENTSTORE_URL"]
    assert out["settings_errors"][1]["value"] == "mysql://root:***@127.0.0.1/shop"


@pytest.mark.parametrize("argv", [["services", "status"], ["reset", "--dry-run"]])
def test_other_commands_refuse_bad_settings_before_doing_anything(
    argv: list[str], broken_settings: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def must_not_run(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the command ran with malformed settings")

    monkeypatch.setattr(cli_reset, "reset", must_not_run)
    assert main(argv) == 2
    _assert_two_clean_lines(capsys.readouterr().err)


def test_the_standalone_reset_entry_point_refuses_them_too(
    broken_settings: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli_reset, "reset", lambda *_a, **_k: pytest.fail("reset ran with malformed settings"))
    assert cli_reset.main(["--dry-run"]) == 2
    _assert_two_clean_lines(capsys.readouterr().err)


def test_python_m_course_lib_doctor_shows_no_traceback(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COURSE_RABBITMQ_URL": "http://guest:s3cret@127.0.0.1:5672/%2F"}
    done = subprocess.run([sys.executable, "-m", "course_lib", "doctor"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [
        "error: 1 setting is malformed (from the environment or a .env file):",
        "  COURSE_RABBITMQ_URL='http://guest:***@127.0.0.1:5672/%2F': must start with amqp:// or amqps:// — fix: "
        "set it to amqp://USER:PASSWORD@HOST:5672/VHOST (default amqp://guest:guest@127.0.0.1:5672/%2F)",
    ]


def test_the_doctor_panel_shows_bad_settings_as_red_rows(broken_settings: None) -> None:
    panel = DoctorPanel()  # the notebook-00 widget, reading settings from the environment
    assert panel.report is not None and not panel.report.ok
    assert panel.services() == ["setting COURSE_KAFKA_BOOTSTRAP_SERVERS", "setting COURSE_EVENTSTORE_URL"]
    row = panel.report.row("setting COURSE_EVENTSTORE_URL")
    assert row.detail.startswith("COURSE_EVENTSTORE_URL='mysql://root:***@127.0.0.1/shop': must be sqlite:///")
    assert "memory://" in row.fix and "s3cret" not in panel.table.value
