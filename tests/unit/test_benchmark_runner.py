"""The benchmark runner with fake cases (no services): warm-up, interleaved rounds, paired ratios, intervals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import runner
from benchmarks.runner import Case, Group, Measurement, enough_rounds, run_group, write_json


def fake_group(speeds: dict[str, list[float]], calls: list[str], **group_options: object) -> Group:
    """A group whose case ``label`` reports the next of ``speeds[label]`` items per second on each run."""

    def case(label: str) -> Case:
        remaining = iter(speeds[label])

        def run(quick: bool) -> Measurement:
            calls.append(label)
            return Measurement(items=int(next(remaining)), seconds=1.0)

        return Case(label, run, in_quick=label != "explainer")

    options: dict[str, object] = {"baseline": "raw", "target": 1.5, **group_options}
    return Group("demo.group", "events", [case(label) for label in speeds], **options)  # type: ignore[arg-type]


def test_warm_up_is_not_counted_and_rounds_interleave() -> None:
    calls: list[str] = []
    speeds = {"course_lib": [1, 300, 300, 300], "raw": [1, 200, 200, 200], "other": [1, 100, 100, 100]}
    result = run_group(fake_group(speeds, calls), quick=False, repeats=3, progress=lambda _line: None)
    assert calls == ["course_lib", "raw", "other"] * 4  # one warm-up round, then three interleaved rounds
    assert result.repeats == 3 and result.warmup == 1
    subject = result.cases[0]
    assert subject.runs == [300, 300, 300]  # the warm-up's slow first run is not among them
    assert result.subject_ratio == pytest.approx(1.5) and result.subject_ratio_ci == pytest.approx([1.5, 1.5])


def test_the_ratio_is_the_median_of_paired_ratios_with_its_interval() -> None:
    # each round's two runs form a pair: ratios 1.5, 2.0, 1.65, 1.45, 1.55 (round 2 was busy for both)
    speeds = {"course_lib": [0, 300, 100, 330, 290, 310], "raw": [0, 200, 50, 200, 200, 200]}
    result = run_group(fake_group(speeds, []), quick=False, repeats=5, progress=lambda _line: None)
    subject, baseline = result.cases
    assert subject.ratio_to_baseline == pytest.approx(1.55)  # their median (the ratio of medians would be 1.5)
    low, high = subject.ratio_ci or [0, 0]
    assert low <= 1.5 <= high and high <= 2.0
    assert result.subject_ratio_upper == high
    assert baseline.ratio_to_baseline == 1.0 and baseline.ratio_ci is None  # the reference has no interval
    assert subject.per_second == 300  # throughput: the median of the runs


def test_quick_mode_skips_cases_that_only_explain() -> None:
    speeds = {"course_lib": [300] * 9, "raw": [200] * 9, "explainer": [100] * 9}
    calls: list[str] = []
    quick = run_group(fake_group(speeds, calls), quick=True, repeats=2, progress=lambda _line: None)
    assert [c.label for c in quick.cases] == ["course_lib", "raw"] and "explainer" not in calls
    full = run_group(fake_group(speeds, []), quick=False, repeats=2, progress=lambda _line: None)
    assert [c.label for c in full.cases] == ["course_lib", "raw", "explainer"]


def test_a_group_can_skip_the_warm_up() -> None:
    calls: list[str] = []
    run_group(fake_group({"course_lib": [3] * 2, "raw": [2] * 2}, calls, warmup=0), quick=True, repeats=2,
              progress=lambda _line: None)
    assert calls == ["course_lib", "raw"] * 2


def test_rounds_follow_the_budget_within_the_minimum_and_the_maximum() -> None:
    assert not enough_rounds(runner.MIN_REPEATS - 1, elapsed=100.0, repeats=None, budget=1.0)  # never below
    assert enough_rounds(runner.MIN_REPEATS, elapsed=runner.MIN_REPEATS * 0.5, repeats=None, budget=1.0)
    assert not enough_rounds(runner.MIN_REPEATS, elapsed=runner.MIN_REPEATS * 0.01, repeats=None, budget=1.0)
    assert enough_rounds(runner.MAX_REPEATS, elapsed=0.001, repeats=None, budget=1.0)  # never above
    assert enough_rounds(3, elapsed=100.0, repeats=3, budget=1.0) and not enough_rounds(2, 0.0, repeats=3, budget=1)


def test_cheap_groups_get_more_rounds_than_expensive_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [0.0]
    monkeypatch.setattr(runner.time, "perf_counter", lambda: clock[0])

    def group(round_seconds: float) -> Group:
        def run(quick: bool) -> Measurement:
            clock[0] += round_seconds / 2
            return Measurement(100, 1.0)

        return Group("g", "events", [Case("course_lib", run), Case("raw", run)], baseline="raw")

    cheap = run_group(group(0.05), quick=True, budget=1.5, progress=lambda _line: None)
    costly = run_group(group(1.0), quick=True, budget=1.5, progress=lambda _line: None)
    assert cheap.repeats > costly.repeats == runner.MIN_REPEATS
    assert cheap.repeats <= runner.MAX_REPEATS


def test_json_carries_the_interval_and_how_it_was_computed(tmp_path: Path) -> None:
    speeds = {"course_lib": [0, 300, 310, 290], "raw": [0, 200, 200, 200]}
    result = run_group(fake_group(speeds, []), quick=True, repeats=3, progress=lambda _line: None)
    payload = write_json([result], tmp_path / "r.json", quick=True)
    assert json.loads((tmp_path / "r.json").read_text()) == payload
    group = payload["groups"][0]
    assert group["subject_ratio_ci"] == result.cases[0].ratio_ci and group["repeats"] == 3
    assert payload["ratio_interval"]["seed"] == runner.INTERVAL_METHOD["seed"]
    assert "bootstrap" in payload["ratio_interval"]["interval"]
