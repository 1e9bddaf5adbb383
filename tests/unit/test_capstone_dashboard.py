"""The capstone dashboard's state, without a browser or services: a scripted probe stands in for the shop."""

from __future__ import annotations

import pytest

from course_lib.capstone.system import Metrics
from course_lib.waiting import wait_until
from course_lib.widgets.capstone_dashboard import CapstoneDashboard, sparkline


class ScriptedProbe:
    """Returns prepared samples in order, then repeats the last one."""

    def __init__(self, samples: list[Metrics]) -> None:
        self.samples = samples
        self.calls = 0

    def __call__(self) -> Metrics:
        self.calls += 1
        return self.samples[min(self.calls, len(self.samples)) - 1]


def m(at: float, events: int, ready: int = 0, unacked: int = 0, lag: int = 0, kafka: int = 0) -> Metrics:
    return Metrics(at, events, ready, unacked, lag, kafka)


def test_samples_give_rates_peaks_and_what_is_shown() -> None:
    probe = ScriptedProbe([m(0.0, 0), m(1.0, 50, ready=3, unacked=2, lag=7, kafka=4), m(2.0, 60)])
    board = CapstoneDashboard(probe)
    assert board.shown() == {}
    board.sample()
    board.sample()
    assert board.shown() == {"events": 50, "events_per_s": 50.0, "queue_depth": 5, "projector_lag": 7,
                             "kafka_lag": 4, "samples": 2}
    board.sample()
    assert board.shown()["events_per_s"] == 10.0
    assert board.peaks == {"events_per_s": 50.0, "queue_depth": 5, "projector_lag": 7, "kafka_lag": 4}
    assert "saga queue depth" in board.numbers.value and "<b>60</b>" in board.numbers.value
    assert "3 samples" in board.spark.value


def test_buttons_run_their_action_and_log_it() -> None:
    killed: list[str] = []
    board = CapstoneDashboard(ScriptedProbe([m(0.0, 1)]), actions={"Kill relay": lambda: killed.append("relay")})
    board.buttons["Kill relay"].click()
    assert killed == ["relay"] and board.clicks == ["Kill relay"]
    assert any("Kill relay: done" in o.get("text", "") for o in board.out.outputs)
    with pytest.raises(KeyError, match="Kill relay"):
        board.click("Kill everything")


def test_background_sampler_samples_until_stopped() -> None:
    probe = ScriptedProbe([m(float(i), i * 10) for i in range(1000)])
    board = CapstoneDashboard(probe, interval=0.01).start()
    wait_until(lambda: len(board.samples) >= 3, timeout=5, what="three samples")
    board.stop()
    assert not board.running
    calls = probe.calls
    assert board.shown()["events_per_s"] == 10.0
    assert probe.calls == calls  # stopped means stopped


def test_sparkline_scales_to_the_largest_value() -> None:
    assert sparkline([0.0, 0.0]) == "▁▁"
    assert sparkline([1.0, 2.0, 4.0]) == "▂▄█"
    with pytest.raises(ValueError):
        CapstoneDashboard(ScriptedProbe([m(0, 0)]), interval=0)
