"""The benchmark report and CI check, fed hand-made results (no benchmarks run)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks import report
from benchmarks.report import ExtraTarget, Target, check, load_targets, to_markdown


def payload(ratio: float, *, name: str = "demo.group", memory: list[dict[str, Any]] | None = None,
            ci: tuple[float, float] | None = None) -> dict[str, Any]:
    """Results as ``python -m benchmarks`` writes them; without ``ci`` as results from before intervals."""
    interval = list(ci) if ci else None
    return {
        "machine": {"python": "3.11", "platform": "Linux", "processor": "CPU", "cpus": 2, "when": "today"},
        "quick": True,
        "groups": [{
            "name": name, "unit": "events", "baseline": "raw", "subject": "course_lib", "target": 1.5,
            "notes": "", "subject_ratio": ratio, "subject_ratio_ci": interval, "meets_target": ratio >= 1.5,
            "cases": [{"label": "course_lib", "per_second": 100 * ratio, "runs": [], "ratio_to_baseline": ratio,
                       "ratio_ci": interval},
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


def test_check_fails_only_when_the_whole_interval_is_below_the_line() -> None:
    # fails below 0.9: a low estimate whose interval reaches above the line is not evidence of a regression
    assert check(payload(0.85, ci=(0.70, 0.95)), TARGETS) == []
    failures = check(payload(0.85, ci=(0.80, 0.88)), TARGETS)
    assert len(failures) == 1 and "0.85× [0.80–0.88]" in failures[0] and "wholly below" in failures[0]


def test_markdown_shows_each_ratio_with_its_interval_and_when_a_run_cannot_tell() -> None:
    text = to_markdown(payload(1.45, ci=(1.30, 1.60)), TARGETS, command="python -m benchmarks")
    assert "| demo.group | course_lib | 145 events/s | 1.45× [1.30–1.60] |" in text
    assert "measured 1.45× [1.30–1.60]: **missed** (the target lies inside the interval: this run cannot tell)" in text
    assert "| demo.group | raw (baseline) | 100 events/s | 1.00× |" in text
    assert "confidence interval (percentile bootstrap over the pairs" in text
    clear = to_markdown(payload(1.8, ci=(1.7, 1.9)), TARGETS)
    assert "measured 1.80× [1.70–1.90]: met |" in clear


def test_before_and_after_compares_each_case_with_an_earlier_run_and_appends_the_notes() -> None:
    earlier = payload(1.03)
    now = payload(1.45, ci=(1.30, 1.60))
    now["groups"].append({**payload(2.0, name="new.group")["groups"][0]})
    text = to_markdown(now, TARGETS, before=earlier, notes="## Test run\n\n9 min → 7 min\n")
    assert "| demo.group | course_lib | raw | 1.03× | 1.45× [1.30–1.60] |" in text
    assert "| new.group | course_lib | raw | — (not measured) | 2.00× |" in text
    assert "(today, before" in text
    assert text.rstrip().endswith("## Test run\n\n9 min → 7 min")
    assert "## Before and after" not in to_markdown(now, TARGETS)


def test_before_and_after_also_compares_the_further_stated_ratios() -> None:
    def run(subject: float, other: float) -> dict[str, Any]:
        result = payload(subject)
        result["groups"][0]["cases"].append({"label": "floor", "per_second": 100 * other, "runs": [],
                                             "ratio_to_baseline": other})
        return result

    targets = {"demo.group": Target("demo.group", floor=1.2, margin=0.25, target=1.5,
                                    extra=[ExtraTarget("course_lib", "floor", 0.5, "within 2x of the floor")])}
    text = to_markdown(run(1.0, 4.0), targets, before=run(1.0, 2.0))
    assert "| demo.group | course_lib | floor | 0.50× | 0.25× |" in text


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


def test_the_targets_file_covers_every_group_and_is_consistent() -> None:
    from benchmarks.runner import discover

    targets = load_targets()
    names = {g.name for g in discover()}
    assert names <= set(targets), f"groups without a CI floor: {sorted(names - set(targets))}"
    for target in targets.values():
        assert 0 < target.margin <= 0.25, f"{target.group}: margin {target.margin:.0%} is above 25 %"
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
