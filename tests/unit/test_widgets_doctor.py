"""The doctor panel and the warm-up slider, driven from code with no browser and no services."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from course_lib.config import Settings
from course_lib.ops.doctor import CheckResult, DoctorReport
from course_lib.widgets.doctor import DoctorPanel
from course_lib.widgets.warmup import DrainTimeSlider, drain_time_s


def _scripted(*reports: DoctorReport) -> Callable[[Settings | None], DoctorReport]:
    """A doctor that returns the given reports in turn, recording the settings it was asked about."""
    queue = list(reports)
    seen: list[Settings | None] = []

    def run(settings: Settings | None) -> DoctorReport:
        seen.append(settings)
        return queue.pop(0)

    run.seen = seen  # type: ignore[attr-defined]
    return run


RED = DoctorReport([
    CheckResult("RabbitMQ (AMQP)", True, "amqp://x", version="RabbitMQ 4.1.4"),
    CheckResult("Kafka broker", False, "127.0.0.1:9092", detail="nothing listens at 127.0.0.1:9092",
                fix="python -m course_lib services start"),
    CheckResult("PostgreSQL", False, "postgresql://x", required=False, fix="docker compose --profile postgres up -d"),
])
GREEN = DoctorReport([
    CheckResult("RabbitMQ (AMQP)", True, "amqp://x", version="RabbitMQ 4.1.4"),
    CheckResult("Kafka broker", True, "127.0.0.1:9092", version="Tansu (embedded)"),
    CheckResult("PostgreSQL", False, "postgresql://x", required=False),
])


def test_panel_checks_once_on_creation_and_shows_the_fix_for_red_rows() -> None:
    panel = DoctorPanel(run=_scripted(RED))
    assert panel.runs == 1
    assert panel.report is RED
    assert panel.services() == ["RabbitMQ (AMQP)", "Kafka broker", "PostgreSQL"]
    assert "python -m course_lib services start" in panel.table.value
    assert "Some required services are not ready." in panel.table.value
    assert "check #1" in panel.status.value and "see the fix column" in panel.status.value
    assert panel.summary() == "check #1: 1/3 services reachable — not ready: Kafka broker"


def test_clicking_check_again_reruns_and_rerenders() -> None:
    panel = DoctorPanel(run=_scripted(RED, GREEN))
    panel.button.click()  # the same handlers a click in the browser fires
    assert panel.runs == 2
    assert panel.report is GREEN and panel.report.ok
    assert "All required services are ready." in panel.table.value
    assert "Tansu (embedded)" in panel.table.value
    assert "data-run='2'" in panel.status.value
    assert not panel.button.disabled and panel.button.description == "check again"
    logged = "".join(o["text"] for o in panel.log.outputs if o.get("name") == "stdout")
    assert logged.splitlines() == [
        "check #1: 1/3 services reachable — not ready: Kafka broker",
        "check #2: 2/3 services reachable — all required services ready",
    ]


def test_panel_passes_its_settings_to_the_doctor() -> None:
    settings = Settings(_env_file=None, kafka_bootstrap_servers="127.0.0.1:1")  # type: ignore[call-arg]
    run = _scripted(RED)
    DoctorPanel(settings, run=run)
    assert run.seen == [settings]  # type: ignore[attr-defined]


def test_panel_can_wait_for_the_first_check() -> None:
    panel = DoctorPanel(run=_scripted(GREEN), check_now=False)
    assert panel.runs == 0 and panel.report is None
    assert panel.summary() == "not checked yet"
    assert "not checked yet" in panel.table.value
    assert panel.check_again() is GREEN


def test_button_comes_back_even_when_the_doctor_raises() -> None:
    def broken(settings: Settings | None) -> DoctorReport:
        raise RuntimeError("boom")

    panel = DoctorPanel(run=broken, check_now=False)
    with pytest.raises(RuntimeError):
        panel.check_again()
    assert not panel.button.disabled and panel.runs == 0


@pytest.mark.parametrize(
    ("messages", "consumers", "each", "expected"),
    [(12, 1, 0.5, 6.0), (12, 4, 0.5, 1.5), (12, 5, 0.5, 1.5), (12, 12, 0.5, 0.5), (12, 16, 0.5, 0.5), (0, 3, 1.0, 0.0)],
)
def test_drain_time(messages: int, consumers: int, each: float, expected: float) -> None:
    assert drain_time_s(messages, consumers, each) == expected


def test_drain_time_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="consumers >= 1"):
        drain_time_s(12, 0, 0.5)


def test_slider_updates_the_result_and_history() -> None:
    warmup = DrainTimeSlider(messages=12, seconds_per_message=0.5)
    assert warmup.seconds == 6.0 and "data-seconds='6'" in warmup.result.value
    assert warmup.set_consumers(4) == 1.5
    assert warmup.consumers == 4 and "<b>1.5 s</b>" in warmup.result.value
    warmup.set_consumers(16)
    assert "4 consumer(s) never get a message" in warmup.result.value
    assert warmup.history == [(1, 6.0), (4, 1.5), (16, 0.5)]
