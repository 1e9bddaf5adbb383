"""The performance-lab widget without a browser or services: a fake measurer stands in for the live one."""

from __future__ import annotations

import pytest

from course_lib.widgets.perf_lab import SCENARIOS, LabPoint, PerfLabWidget


def fake(scenario: str, setting: str) -> LabPoint:
    if setting == "explode":
        raise ConnectionError("broker down at 127.0.0.1:5672")
    value = 100.0 * (SCENARIOS[scenario].index(setting) + 1)
    return LabPoint(scenario, setting, value, "ms" if "p95" in scenario else "messages/s", 3)


def test_runs_join_the_history_table_and_chart() -> None:
    lab = PerfLabWidget(fake)
    assert "no runs yet" in lab.table_view.value and lab.chart_svg("RabbitMQ publish") == ""
    lab.select("RabbitMQ publish")
    lab.run("RabbitMQ publish", "no confirms")
    lab.run("RabbitMQ publish", "confirm batch")
    assert [p.setting for p in lab.history] == ["no confirms", "confirm batch"]
    assert lab.table_rows()[-1] == ("RabbitMQ publish", "confirm batch", "300.0 messages/s")
    assert "run #2" in lab.status.value and "300.0 messages/s" in lab.status.value
    svg = lab.chart_svg("RabbitMQ publish")
    assert svg.lstrip().startswith("<?xml") and "higher is better" in svg
    assert len(lab.chart.outputs) == 1  # the chart is redrawn, not appended to


def test_the_latest_point_per_setting_is_charted() -> None:
    lab = PerfLabWidget(fake)
    lab.run("Kafka round trip p95", "linger 20 ms")
    lab.run("Kafka round trip p95", "linger 0 ms")
    lab.run("Kafka round trip p95", "linger 20 ms")
    assert list(lab.points("Kafka round trip p95")) == ["linger 20 ms", "linger 0 ms"]
    assert not lab.history[0].higher_is_better
    assert "lower is better" in lab.chart_svg("Kafka round trip p95")


def test_changing_the_scenario_offers_its_settings() -> None:
    lab = PerfLabWidget(fake)
    lab.select("projection rebuild")
    assert list(lab.setting_picker.options) == SCENARIOS["projection rebuild"]
    assert lab.setting_picker.value == "batch 1"
    with pytest.raises(ValueError, match="pick one of"):
        lab.select("nonsense")


def test_the_button_runs_the_form_and_shows_failures_in_the_widget() -> None:
    lab = PerfLabWidget(fake)
    lab.select("RabbitMQ consume", "prefetch 100")
    lab.run_button.click()
    assert lab.history[-1] == LabPoint("RabbitMQ consume", "prefetch 100", 300.0, "messages/s", 3)
    lab.setting_picker.options = [*SCENARIOS["RabbitMQ consume"], "explode"]
    lab.setting_picker.value = "explode"
    lab.run_button.click()
    assert "failed" in lab.status.value and "127.0.0.1:5672" in lab.status.value
    assert len(lab.history) == 1


def test_drawing_the_chart_leaves_the_kernels_matplotlib_backend_alone() -> None:
    import matplotlib

    original = matplotlib.get_backend()
    matplotlib.use("pdf")  # stands for whatever the learner's kernel uses (inline, widget, a GUI)
    try:
        lab = PerfLabWidget(fake)
        lab.run("RabbitMQ publish", "confirm each")
        assert "<svg" in lab.chart_svg("RabbitMQ publish")
        assert matplotlib.get_backend() == "pdf"
    finally:
        matplotlib.use(original)
