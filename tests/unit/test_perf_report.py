"""The benchmark report and CI check, fed hand-made results (no benchmarks run)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks import report
from benchmarks.report import Target, check, load_targets, noise, suggested_margin, to_markdown


def payload(ratio: float, *, name: str = "demo.group", memory: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "machine": {"python": "3.11", "platform": "Linux", "processor": "CPU", "cpus": 2, "when": "today"},
        "quick": True,
        "groups": [{
            "name": name, "unit": "events", "baseline": "raw", "subject": "course_lib", "target": 1.5,
            "notes": "", "subject_ratio": ratio, "meets_target": ratio >= 1.5,
            "cases": [{"label": "course_lib", "per_second": 100 * ratio, "runs": [], "ratio_to_baseline": ratio},
                      {"label": "raw", "per_second": 100.0, "runs": [], "ratio_to_baseline": 1.0}],
        }],
        **({"memory": memory} if memory else {}),
    }


TARGETS = {"demo.group": Target("demo.group", floor=1.2, margin=0.25, target=1.5, why="fsync-bound.")}


def test_check_passes_within_the_noise_margin_and_fails_below_it() -> None:
    assert TARGETS["demo.group"].fails_below == pytest.approx(0.9)
    assert check(payload(0.95), TARGETS) == []
    failures = check(payload(0.85), TARGETS)
    assert len(failures) == 1 and "below the CI floor 1.2" in failures[0] and "rerun" in failures[0]


def test_a_group_without_targets_fails_the_check_with_the_fix() -> None:
    failures = check(payload(5.0, name="new.group"), TARGETS)
    assert failures and "add its floor and noise margin" in failures[0]


def test_memory_that_grows_fails_the_check() -> None:
    grows = [{"name": "rebuild", "flat": False, "verdict": "it GROWS", "points": []}]
    assert any("GROWS" in f for f in check(payload(2.0, memory=grows), TARGETS))


def test_markdown_says_missed_plainly() -> None:
    text = to_markdown(payload(1.25), TARGETS, command="python -m benchmarks")
    assert "target ≥ 1.5× raw, measured 1.25×: **missed**" in text
    assert "## Targets missed" in text and "fsync-bound." in text
    assert "CPU (2 CPUs), Linux, Python 3.11" in text and "python -m benchmarks" in text
    assert "| demo.group | 1.5× | 1.2× | 25% | 0.90× |" in text
    assert "met" in to_markdown(payload(1.6), TARGETS).split("## Targets missed")[0]
    assert "None." in to_markdown(payload(1.6), TARGETS)


def test_noise_spread_and_suggested_margin() -> None:
    rows = noise([payload(r) for r in (1.0, 0.8, 1.1, 1.0, 1.2)])
    assert len(rows) == 1 and rows[0].median == 1.0
    assert rows[0].spread == pytest.approx(0.4) and rows[0].low_deviation == pytest.approx(0.2)
    assert suggested_margin(rows[0]) == pytest.approx(0.2)
    assert suggested_margin(noise([payload(1.0), payload(1.0)])[0]) == 0.15  # never below the minimum


def test_the_targets_file_covers_every_group_and_is_consistent() -> None:
    from benchmarks.runner import discover

    targets = load_targets()
    names = {g.name for g in discover()}
    assert names <= set(targets), f"groups without a CI floor: {sorted(names - set(targets))}"
    for target in targets.values():
        assert 0 < target.margin < 1
        if target.target is not None:
            assert target.floor <= target.target  # a floor above the stated target would be a new promise


def test_targets_file_errors_name_the_missing_key(tmp_path: Path) -> None:
    bad = tmp_path / "t.toml"
    bad.write_text('[groups."x"]\nfloor = 1.0\n')
    with pytest.raises(ValueError, match="lacks 'margin'"):
        load_targets(bad)


def test_cli_check_exit_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    results = tmp_path / "r.json"
    results.write_text(json.dumps(payload(0.5)))
    targets = tmp_path / "t.toml"
    targets.write_text('[groups."demo.group"]\ntarget = 1.5\nfloor = 1.2\nmargin = 0.25\n')
    assert report.main([str(results), "--check", "--targets", str(targets), "--markdown", str(tmp_path / "r.md")]) == 1
    assert "missed" in (tmp_path / "r.md").read_text()
    results.write_text(json.dumps(payload(1.3)))
    assert report.main([str(results), "--check", "--targets", str(targets)]) == 0
