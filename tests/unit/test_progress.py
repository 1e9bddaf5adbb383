"""Progress: a passed check is recorded atomically, a read-only disk never fails a check, and the table shows it."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from course_lib import progress
from course_lib.exercises.nb03 import check_cart
from course_lib.ops.cli import main
from solutions.nb03 import cart


def test_a_passed_check_is_recorded_and_a_failed_one_is_not(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "state" / "progress.json"
    monkeypatch.setenv("COURSE_PROGRESS_FILE", str(path))
    assert not check_cart(lambda events: {}).solved
    assert progress.load() == {}
    assert check_cart(cart).solved and check_cart(cart).solved
    record = progress.load()["nb03.cart"]
    assert record.times == 2 and record.first <= record.last
    assert json.loads(path.read_text())["passed"]["nb03.cart"]["times"] == 2
    assert [p.name for p in path.parent.iterdir()] == ["progress.json"]  # no temporary file left behind


def test_the_first_pass_is_kept_when_passing_again(tmp_path: Path) -> None:
    path = tmp_path / "progress.json"
    progress.record_pass("nb00.event_names", path=path, now=datetime(2026, 1, 2, tzinfo=UTC))
    progress.record_pass("nb00.event_names", path=path, now=datetime(2026, 3, 4, tzinfo=UTC))
    record = progress.load(path)["nb00.event_names"]
    assert record.first.startswith("2026-01-02") and record.last.startswith("2026-03-04") and record.times == 2


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes to read-only folders")
def test_a_read_only_folder_never_fails_a_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    monkeypatch.setenv("COURSE_PROGRESS_FILE", str(folder / "progress.json"))
    try:
        assert check_cart(cart).solved
        assert not progress.record_pass("nb03.cart")
    finally:
        folder.chmod(stat.S_IRWXU)


def test_a_path_that_cannot_be_written_never_fails_a_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the state folder should be")
    monkeypatch.setenv("COURSE_PROGRESS_FILE", str(blocker / "progress.json"))
    assert check_cart(cart).solved
    assert progress.record_pass("nb03.cart") is False and progress.load() == {}


def test_a_damaged_file_counts_as_no_progress_and_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "progress.json"
    path.write_text("{not json")
    assert progress.load(path) == {}
    assert progress.record_pass("nb01.event_design", path=path)
    assert set(progress.load(path)) == {"nb01.event_design"}


def test_the_table_lists_every_exercise_with_its_level_and_minutes(tmp_path: Path) -> None:
    path = tmp_path / "progress.json"
    progress.record_pass("nb02.append", path=path)
    exercises = progress.all_exercises()
    assert len(exercises) >= 18 and {e.notebook for e in exercises} == set(progress.NOTEBOOKS)
    text = progress.table(path)
    line = next(row for row in text.splitlines() if " append " in row)
    assert line.startswith("02") and "★★" in line and "✔" in line
    assert f"1 of {len(exercises)} exercises passed" in text


def test_the_progress_command_prints_the_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("COURSE_PROGRESS_FILE", str(tmp_path / "progress.json"))
    progress.record_pass("nb00.event_names")
    assert main(["progress"]) == 0
    assert "1 of" in capsys.readouterr().out
    assert main(["progress", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["nb00.event_names"]["times"] == 1 and shown["nb13.p95"] is None
