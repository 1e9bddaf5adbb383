"""course_lib.perf: percentiles, summaries, interleaved side-by-side runs, ratio spread, memory in a subprocess."""

from __future__ import annotations

import math

import pytest

from course_lib.perf import Run, percentile, ratio_spread, side_by_side, summarize, throughput, timed
from course_lib.perf.memory import measure_here, peak_memory
from course_lib.perf.stats import nearest_rank


def test_percentile_interpolates_between_ranks() -> None:
    samples = [5.0, 1.0, 4.0, 2.0, 3.0]
    assert percentile(samples, 50) == 3.0
    assert percentile(samples, 0) == 1.0 and percentile(samples, 100) == 5.0
    assert percentile(samples, 95) == pytest.approx(4.8)
    assert percentile([7.0], 99) == 7.0
    assert samples == [5.0, 1.0, 4.0, 2.0, 3.0]  # the caller's list is untouched


def test_nearest_rank_picks_a_real_sample() -> None:
    samples = [float(x) for x in range(1, 101)]
    assert nearest_rank(samples, 95) == 95.0
    assert nearest_rank(samples, 99) == 99.0
    assert nearest_rank([3.0, 1.0], 50) == 1.0


def test_percentile_refuses_bad_input_with_the_fix() -> None:
    with pytest.raises(ValueError, match="at least one run"):
        percentile([], 50)
    with pytest.raises(ValueError, match="pass e"):
        percentile([1.0], 950)


def test_summary_shows_that_one_outlier_moves_the_mean_not_the_median() -> None:
    calm = summarize([10.0] * 99 + [10.0])
    spiky = summarize([10.0] * 99 + [1000.0])
    assert calm.p50 == spiky.p50 == 10.0
    assert spiky.mean > 19 and calm.mean == 10.0
    assert spiky.maximum == 1000.0 and spiky.n == 100
    assert spiky.scaled(1000).p50 == 10_000.0
    assert "p95=" in str(spiky)


def test_timed_uses_the_injected_clock_or_a_run_the_work_timed_itself() -> None:
    ticks = iter([1.0, 3.0])
    run = timed(lambda: 10, clock=lambda: next(ticks))
    assert run == Run(10, 2.0) and run.per_second == 5.0
    assert timed(lambda: Run(4, 0.5)).per_second == 8.0
    assert Run(1, 0.0).per_second == math.inf


def test_side_by_side_warms_up_and_interleaves() -> None:
    calls: list[str] = []

    def case(label: str) -> Run:
        calls.append(label)
        return Run(100, 1.0 if label == "a" else 2.0)

    result = side_by_side({"a": lambda: case("a"), "b": lambda: case("b")}, repeats=3, warmup=1)
    assert calls == ["a", "b"] * 4  # one warm-up round, then three interleaved rounds
    assert result.order == ["a", "b", "a", "b", "a", "b"]
    assert len(result["a"].runs) == 3  # the warm-up is not counted
    assert result.ratio("a", "b") == pytest.approx(2.0)
    assert result.worst_case_ratio("a", "b") == pytest.approx(2.0)
    assert [row[0] for row in result.table()] == ["a", "b"]


def test_the_median_ignores_one_noisy_run() -> None:
    seconds = iter([1.0, 1.0, 10.0, 1.0, 1.0])
    result = throughput("x", lambda: Run(100, next(seconds)), repeats=4, warmup=1)
    assert result.median == pytest.approx(100.0)
    assert min(result.rates) == pytest.approx(10.0)


def test_side_by_side_refuses_zero_repeats() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        side_by_side({"a": lambda: 1}, repeats=0)


def test_ratio_spread() -> None:
    assert ratio_spread([1.0, 1.0, 1.0]) == 0.0
    assert ratio_spread([0.9, 1.0, 1.1]) == pytest.approx(0.2)
    with pytest.raises(ValueError):
        ratio_spread([])


def make_list(n: int) -> object:
    """A memory target for the tests: allocating a list of ``n`` ints."""
    return lambda: len(list(range(n)))


def test_memory_in_this_process_grows_with_the_work() -> None:
    small = measure_here("tests.unit.test_perf:make_list", {"n": 1_000})
    large = measure_here("tests.unit.test_perf:make_list", {"n": 1_000_000})
    assert small.items == 1_000 and large.items == 1_000_000
    assert large.traced_mb > 10 * small.traced_mb  # a million ints held at once: tens of MB
    untraced = measure_here("tests.unit.test_perf:make_list", {"n": 10}, trace=False)
    assert math.isnan(untraced.traced_mb) and untraced.rss_mb > 0


def test_peak_memory_runs_in_a_fresh_process() -> None:
    peak = peak_memory("tests.unit.test_perf:make_list", n=200_000)
    assert peak.items == 200_000 and peak.traced_mb > 1
    assert peak.rss_mb >= peak.baseline_rss_mb


def test_peak_memory_reports_a_broken_target() -> None:
    with pytest.raises(RuntimeError, match="failed"):
        peak_memory("tests.unit.test_perf:no_such_function")
    with pytest.raises(ValueError, match=r"package\.module:function"):
        measure_here("no_colon", {})
