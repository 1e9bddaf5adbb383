"""The doctor's event-store row and its guard against checks that hang or crash; no services needed."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from course_lib.config import Settings
from course_lib.ops import doctor
from course_lib.ops.doctor import Check, CheckResult, check_event_store, run_doctor


def _settings(tmp_path: Path, eventstore_url: str) -> Settings:
    return Settings(_env_file=None, eventstore_url=eventstore_url, state_dir=tmp_path)  # type: ignore[call-arg]


def test_a_damaged_store_file_is_red_and_left_untouched(tmp_path: Path) -> None:
    damaged = tmp_path / "events.db"
    damaged.write_bytes(b"these bytes are not an SQLite database " * 100)
    before = damaged.read_bytes()
    row = check_event_store(_settings(tmp_path, f"sqlite:///{damaged}"))
    assert not row.ok and row.required
    assert row.detail.startswith(f"sqlite:///{damaged}: cannot open it") and "not a database" in row.detail
    assert "move it away" in row.fix and "COURSE_EVENTSTORE_URL" in row.fix
    assert damaged.read_bytes() == before


def test_a_store_path_below_a_file_is_red_with_the_writable_folder_fix(tmp_path: Path) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    row = check_event_store(_settings(tmp_path, f"sqlite:///{a_file}/events.db"))
    assert not row.ok and str(a_file) in row.detail
    assert "a folder you can write to" in row.fix


def test_a_good_store_is_opened_and_closed_again(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "events.db"
    row = check_event_store(_settings(tmp_path, f"sqlite:///{path}"))
    assert row.ok and row.version.startswith("SQLite ") and row.detail == f"sqlite:///{path}"
    assert path.exists()
    assert not Path(f"{path}-wal").exists()  # SQLite removes the WAL file when the last connection closes


def test_a_memory_store_is_green_and_says_it_keeps_nothing(tmp_path: Path) -> None:
    row = check_event_store(_settings(tmp_path, "memory://"))
    assert row.ok and row.version == "in memory" and "as long as the Python process" in row.detail


@pytest.fixture
def stuck_and_broken_checks(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Replace the checks with one that never returns (until released), one that raises and one that works."""
    release = threading.Event()

    def stuck(_settings: Settings) -> CheckResult:
        release.wait()
        return CheckResult("Stuck", True, "stuck://here")

    def broken(_settings: Settings) -> CheckResult:
        raise RuntimeError("boom")

    monkeypatch.setattr(doctor, "CHECKS", [
        Check("Stuck", stuck, lambda _s: "stuck://here"),
        Check("Broken", broken, lambda _s: "broken://there"),
        Check("Fine", lambda _s: CheckResult("Fine", True, "fine://", detail="fine://"), lambda _s: "fine://"),
    ])
    yield release
    release.set()


def test_a_check_that_hangs_or_raises_becomes_a_red_row_naming_its_address(
    stuck_and_broken_checks: threading.Event, tmp_path: Path
) -> None:
    report = run_doctor(_settings(tmp_path, "memory://"), deadline_s=0.3)
    assert [r.service for r in report.results] == ["Stuck", "Broken", "Fine"]
    stuck, broken, fine = report.results
    assert not stuck.ok and stuck.detail == "stuck://here: no answer within 0.3 s"
    assert "COURSE_CONNECT_TIMEOUT_S" in stuck.fix
    assert not broken.ok and broken.detail == "broken://there: the check failed (RuntimeError: boom)"
    assert fine.ok and fine.latency_ms is not None
    assert not report.ok and "Some required services are not ready." in report.to_text()
