"""The backlog lab's state without a broker: samples feed the alert, the status and chart say what happened."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from course_lib.backlog import BacklogRule
from course_lib.messaging.rabbitmq.admin import QueueDepth
from course_lib.widgets import backlog_lab
from course_lib.widgets.backlog_lab import BacklogLab


def test_samples_drive_the_alert_the_status_and_the_chart(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = SimpleNamespace(now=0.0)
    depths = iter([0, 20, 40, 60, 80, 100, 60, 20, 0, 0])
    api_values = iter([0, 0, 0, 0, 80, 80, 80, 80, 0, 0])
    monkeypatch.setattr(backlog_lab, "time", SimpleNamespace(monotonic=lambda: clock.now))
    monkeypatch.setattr(backlog_lab, "passive_depth",
                        lambda _conn, queue: QueueDepth(queue, next(depths), None, 1, "passive"))

    def api(queue: str, **_kw: Any) -> QueueDepth:
        return QueueDepth(queue, next(api_values), 0, 1, "management")

    monkeypatch.setattr(backlog_lab, "management_depth", api)
    lab = BacklogLab("q", rule=BacklogRule(max_growth_per_s=10, max_drain_s=5, min_depth=10), window_s=1.0)
    assert "press start" in lab.chart.value and "data-alert='ok'" in lab.status.value
    states = []
    for _ in range(10):
        clock.now += 0.5
        lab.sample(None)  # type: ignore[arg-type]
        states.append(lab.alert.firing)
    assert states == [False, False, True, True, True, True, False, False, False, False]  # 1 s of samples first
    assert lab.alert.fired_and_cleared()
    assert [p.api_ready for p in lab.points][:5] == [0, 0, 0, 0, 80] and lab.points[4].ready == 80
    assert "data-points='10'" in lab.chart.value and lab.chart.value.count("<polyline") == 3
    outputs = "".join(o.get("text", "") for o in lab.log.outputs)
    assert "ALERT: backlog growing" in outputs and "alert cleared" in outputs


def test_a_learners_rule_replaces_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = SimpleNamespace(now=0.0)
    monkeypatch.setattr(backlog_lab, "time", SimpleNamespace(monotonic=lambda: clock.now))
    monkeypatch.setattr(backlog_lab, "passive_depth", lambda _c, q: QueueDepth(q, 3, None, 1, "passive"))
    monkeypatch.setattr(backlog_lab, "management_depth", lambda q, **_kw: (_ for _ in ()).throw(OSError("down")))
    lab = BacklogLab("q")
    lab.set_rule(lambda t: "any backlog at all" if t.depth > 0 else None)
    for _ in range(4):
        clock.now += 0.5
        lab.sample(None)  # type: ignore[arg-type]
    assert lab.alert.firing and "any backlog at all" in lab.status.value
    assert all(p.api_ready is None for p in lab.points)  # no management API: only the exact line
    assert lab.chart.value.count("<polyline") == 2
