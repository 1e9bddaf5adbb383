"""Calibrating CI floors and margins from repeated runs (hand-made results; no benchmarks run)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks import calibrate
from benchmarks.calibrate import MAX_MARGIN, MIN_MARGIN, dropped_floors, noise, suggested_margin, write_targets
from benchmarks.report import Target, load_targets


def run(ratio: float, ci: tuple[float, float] | None = None, name: str = "demo.group") -> dict[str, Any]:
    return {"groups": [{"name": name, "subject_ratio": ratio, "subject_ratio_ci": list(ci) if ci else None}]}


TARGETS = {"demo.group": Target("demo.group", floor=1.0, margin=0.5, target=1.5)}


def test_noise_of_older_results_without_intervals() -> None:
    (row,) = noise([run(r) for r in (1.0, 0.8, 1.1, 1.0, 1.2)])
    assert row.median == 1.0 and row.spread == pytest.approx(0.4) and row.low_deviation == pytest.approx(0.2)
    assert row.median_width is None
    assert suggested_margin(row) == pytest.approx(0.2)  # the worst run, 0.8, passes a 20 % margin
    assert suggested_margin(noise([run(1.0), run(1.0)])[0]) == MIN_MARGIN  # never below the minimum


def test_the_margin_covers_the_lowest_ratio_seen_below_the_floor() -> None:
    runs = [run(1.0, (0.9, 1.1)), run(0.88, (0.7, 0.95)), run(1.05, (0.95, 1.2))]
    (row,) = noise(runs)
    assert row.median_width == pytest.approx(0.25 / 1.05)  # widths 20 %, 28 %, 24 %
    assert suggested_margin(row, floor=1.0) == pytest.approx(0.15)  # 0.88 stays above 1.0 × (1 − 15 %)
    (cal,) = calibrate.calibrate(runs, {"demo.group": Target("demo.group", floor=1.0, margin=0.5, target=1.5)})
    assert cal.floor == 1.0 and not cal.meets_target  # median 1.0 misses 1.5: the floor is the level now
    assert cal.margin == pytest.approx(0.15) and cal.needed == pytest.approx(0.12) and not cal.too_noisy


def test_the_floor_is_the_target_where_it_is_met_else_the_median_rounded_down() -> None:
    (met,) = calibrate.calibrate([run(1.7, (1.6, 1.8)), run(1.8, (1.7, 1.9)), run(1.6, (1.5, 1.7))], TARGETS)
    assert met.floor == 1.5 and met.meets_target
    (missed,) = calibrate.calibrate([run(1.237, (1.2, 1.3))] * 3, TARGETS)
    assert missed.floor == 1.2
    (untargeted,) = calibrate.calibrate([run(0.0987, (0.09, 0.11))] * 3, {})
    assert untargeted.floor == 0.098


def test_a_group_too_noisy_for_the_largest_margin_is_named_not_widened() -> None:
    runs = [run(1.0, (0.9, 1.1)), run(1.0, (0.9, 1.1)), run(0.5, (0.4, 0.6))]
    (cal,) = calibrate.calibrate(runs, {})
    assert cal.too_noisy and cal.margin == MAX_MARGIN and cal.needed == pytest.approx(0.5)
    assert "(needs 50%)" in calibrate.noise_table([cal])


def test_write_targets_rewrites_floors_and_margins_and_keeps_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "targets.toml"
    path.write_text('# header\n[groups."demo.group"]\ntarget = 1.5\nfloor = 1.0  # old\nmargin = 0.85\n'
                    'why = "fsync"\n\n[groups."other"]\nfloor = 2.0\nmargin = 0.5\n')
    runs = [run(1.3, (1.2, 1.4)), run(1.2, (1.1, 1.3)), run(1.35, (1.2, 1.5))]
    (cal,) = calibrate.calibrate(runs, load_targets(path))
    text = write_targets([cal], path, note=", calibrated today")
    assert "floor = 1.3  # misses the target: quick median 1.3 over 3 runs, calibrated today" in text
    assert "margin = 0.1  # lowest ratio 1.2, median interval width 17%" in text  # 1.2 ≥ 1.3 × 0.9
    assert '# header' in text and 'why = "fsync"' in text and "floor = 2.0\nmargin = 0.5" in text
    targets = load_targets(path)
    assert targets["demo.group"].margin == pytest.approx(0.1) and targets["other"].margin == 0.5


def test_a_lower_floor_is_pointed_out() -> None:
    (cal,) = calibrate.calibrate([run(0.8, (0.7, 0.9))] * 3, TARGETS)
    assert dropped_floors([cal], TARGETS) == ["demo.group: floor 1 → 0.8"]


def test_cli_analyses_existing_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths = []
    for i, ratio in enumerate((1.0, 1.1, 0.9)):
        paths.append(tmp_path / f"run{i}.json")
        paths[-1].write_text(json.dumps(run(ratio, (ratio - 0.1, ratio + 0.1))))
    targets = tmp_path / "t.toml"
    targets.write_text('[groups."demo.group"]\nfloor = 1.0\nmargin = 0.5\n')
    assert calibrate.main([*map(str, paths), "--targets", str(targets), "--write"]) == 0
    assert "| demo.group | 3 | 0.90 | 1.00 | 1.10 |" in capsys.readouterr().out
    assert load_targets(targets)["demo.group"].margin == pytest.approx(0.1)  # 0.9 ≥ 1.0 × (1 − 10 %)
