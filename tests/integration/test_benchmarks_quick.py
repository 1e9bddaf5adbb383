"""The benchmark command end to end in quick mode: JSON, Markdown report, CI check, and flat memory.

The full CI smoke run (every group, and the Kafka memory at 100,000 and 200,000 records) is
``python -m benchmarks --quick --check --memory``; these tests keep to what finishes in seconds.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from benchmarks import memory
from benchmarks.runner import MIN_REPEATS
from course_lib.config import PROJECT_ROOT


def test_quick_check_writes_json_and_report(tmp_path: Path) -> None:
    out = tmp_path / "quick.json"
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks", "messages", "versioning", "--quick", "--check", "--json", str(out)],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert completed.returncode == 0, completed.stderr[-2000:]
    payload = json.loads(out.read_text())
    assert payload["quick"] is True and payload["machine"]["cpus"]
    assert {g["name"] for g in payload["groups"]} == {"messages.json_roundtrip", "versioning.read_with_upcasters"}
    for group in payload["groups"]:
        assert group["subject_ratio"] > 0 and all(c["per_second"] > 0 for c in group["cases"])
        low, high = group["subject_ratio_ci"]  # the bootstrap interval over the paired rounds
        assert low <= group["subject_ratio"] <= high
        assert group["repeats"] >= MIN_REPEATS and all(len(c["runs"]) == group["repeats"] for c in group["cases"])
    report = out.with_suffix(".md").read_text()
    assert "| messages.json_roundtrip | course_lib |" in report and "## CI floors (quick mode)" in report
    assert f"[{low:.2f}–{high:.2f}]" in report
    assert "check passed" in completed.stderr


def test_quick_check_fails_on_a_regression(tmp_path: Path) -> None:
    # a targets file whose floor no real run can reach: the check must fail, after measuring twice
    targets = tmp_path / "targets.toml"
    targets.write_text('[groups."messages.json_roundtrip"]\nfloor = 1000.0\nmargin = 0.15\n')
    results = tmp_path / "r.json"
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks", "messages", "--quick", "--json", str(results)],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert completed.returncode == 0, completed.stderr[-2000:]
    checked = subprocess.run(
        [sys.executable, "-m", "benchmarks.report", str(results), "--check", "--targets", str(targets)],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert checked.returncode == 1 and "REGRESSION messages.json_roundtrip" in checked.stderr


def test_projection_rebuild_memory_is_flat() -> None:
    spec = [s for s in memory.SPECS if s[0].startswith("projection")]
    (result,) = memory.measure(quick=True, specs=spec, progress=lambda _line: None)
    small, large = result["points"]
    assert large["items"] == 5 * small["items"]
    assert result["flat"], result["verdict"]

