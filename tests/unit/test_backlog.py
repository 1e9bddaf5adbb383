"""Backlog trends, the alert rule and its fire/clear record; the pacer and the adaptive (AIMD) rate."""

from __future__ import annotations

import math

import pytest

from course_lib.backlog import BacklogAlert, BacklogRule, DepthSample, Trend, trend
from course_lib.pacing import AdaptiveRate, Pacer


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def samples(depths: list[int], step: float = 0.5, start: float = 0.0) -> list[DepthSample]:
    return [DepthSample(start + i * step, d) for i, d in enumerate(depths)]


def test_depth_counts_ready_and_unacked() -> None:
    assert DepthSample(0, ready=7, unacked=3).depth == 10


def test_trend_is_the_slope_over_the_window_only() -> None:
    points = samples([500, 400, 300, 0, 10, 20, 30, 40])  # a drop, then +10 every 0.5 s
    t = trend(points, window_s=2.0)
    assert t.samples == 5 and t.depth == 40 and t.span_s == 2.0
    assert t.growth_per_s == pytest.approx(20.0)
    assert t.drain_s == math.inf


def test_drain_time_from_a_shrinking_backlog() -> None:
    t = trend(samples([100, 90, 80]), window_s=5)
    assert t.growth_per_s == pytest.approx(-20.0) and t.drain_s == pytest.approx(4.0)
    assert Trend(0, 0.0, 1.0, 2).drain_s == 0.0


def test_trend_needs_a_sample() -> None:
    with pytest.raises(ValueError, match="no samples"):
        trend([], 1.0)


def test_rule_ignores_small_backlogs_and_names_the_reason() -> None:
    rule = BacklogRule(max_growth_per_s=5, max_drain_s=10, min_depth=10)
    assert rule(Trend(5, 100.0, 2, 4)) is None                       # tiny: never alarms
    assert "growing 20.0/s" in (rule(Trend(50, 20.0, 2, 4)) or "")  # fast growth
    assert "never" in (rule(Trend(50, 0.0, 2, 4)) or "")            # stuck: a flat backlog never drains
    assert "in 25s" in (rule(Trend(50, -2.0, 2, 4)) or "")          # shrinking, but too slowly
    assert rule(Trend(50, -10.0, 2, 4)) is None                      # drains in 5 s: fine


def test_alert_fires_on_growth_and_clears_when_draining() -> None:
    alert = BacklogAlert(BacklogRule(max_growth_per_s=5, max_drain_s=10), window_s=2, min_span_s=1)
    for s in samples([0, 0, 0, 0, 20, 40, 60, 80, 100, 90, 60, 30, 0, 0]):
        alert.add(s)
    assert [c.firing for c in alert.changes] == [True, False]
    assert alert.changes[0].at == 2.0 and "growing" in alert.changes[0].reason
    assert alert.fired_and_cleared() and not alert.firing


def test_alert_waits_for_a_span_and_takes_any_callable_rule() -> None:
    alert = BacklogAlert(lambda t: "deep" if t.depth > 5 else None, window_s=2, min_span_s=1)
    assert alert.add(DepthSample(0, 50)) is None  # one sample: no verdict yet
    assert alert.add(DepthSample(1, 50)) == "deep"
    assert alert.firing and not alert.fired_and_cleared()
    with pytest.raises(ValueError, match="time order"):
        alert.add(DepthSample(0.5, 1))


def test_pacer_spreads_units_over_time_and_caps_the_burst() -> None:
    clock = FakeClock()
    pacer = Pacer(10, burst_s=0.5, clock=clock)
    assert pacer.take() == 0 and pacer.wait_s() == pytest.approx(0.1)
    clock.now += 0.35
    assert pacer.take() == 3
    clock.now += 60  # a long pause banks at most half a second's worth
    assert pacer.take() == 5
    clock.now += 1
    assert pacer.take(limit=2) == 2 and pacer.take() == 3  # the limit keeps the rest for later


def test_pacer_rate_changes_apply_from_now_and_zero_stops_it() -> None:
    clock = FakeClock()
    pacer = Pacer(10, clock=clock)
    clock.now += 0.2
    pacer.set_rate(0)
    clock.now += 10
    assert pacer.take() == 2 and pacer.take() == 0 and pacer.wait_s() == math.inf
    with pytest.raises(ValueError):
        pacer.set_rate(-1)


def test_adaptive_rate_halves_on_refusal_and_creeps_back() -> None:
    rate = AdaptiveRate(64, floor=4, step=2)
    assert rate.refused() == 32 and rate.refused() == 16
    assert [rate.refused() for _ in range(3)] == [8, 4, 4]  # never below the floor
    assert rate.accepted() == 6 and rate.refusals == 5
    for _ in range(100):
        rate.accepted()
    assert rate.rate == 64  # never above the ceiling (the start rate)
    with pytest.raises(ValueError):
        AdaptiveRate(1, floor=2)
