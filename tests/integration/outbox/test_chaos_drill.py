"""The instructor's chaos drill (``python -m course_lib.labs.outbox_chaos``) against the real RabbitMQ."""

from __future__ import annotations

import pytest

from course_lib.labs.outbox_chaos import main, run_drill


def test_drill_reports_crashes_and_no_loss_or_duplicate(rabbitmq_url: str) -> None:
    stats, result, deliveries = run_drill(orders=20, seed=4, crash_probability=0.2, url=rabbitmq_url)
    assert stats.crashes > 5 and sum(stats.crash_points.values()) == stats.crashes
    assert result.ok and result.applied == result.expected == 40
    assert deliveries >= 40


def test_cli_prints_the_report(rabbitmq_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--orders", "5", "--seed", "2"]) == 0
    out = capsys.readouterr().out
    assert "injected crashes:" in out and "lost:                0" in out and "duplicated effects:  0" in out
