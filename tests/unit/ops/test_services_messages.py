"""What a learner sees when a service is missing: the exact commands to get it, in seconds."""

from __future__ import annotations

from pathlib import Path

import pytest

from course_lib.config import Settings, get_settings
from course_lib.errors import ServiceUnavailable
from course_lib.ops.cli import main
from course_lib.ops.services import kafka_broker, rabbitmq_server


def test_no_rabbitmq_anywhere_names_docker_apt_and_homebrew(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                             closed_port: int) -> None:
    monkeypatch.setattr(rabbitmq_server.shutil, "which", lambda _name: None)  # nothing installed
    port = closed_port
    monkeypatch.setattr(rabbitmq_server, "AMQP_PORT", port)  # as if RabbitMQ's default local port were closed
    settings = Settings(_env_file=None, rabbitmq_url=f"amqp://guest:guest@127.0.0.1:{port}/%2F", state_dir=tmp_path)
    with pytest.raises(ServiceUnavailable) as caught:
        rabbitmq_server.ensure_running(settings)
    message = str(caught.value)
    for command in ("docker compose up -d rabbitmq", "apt-get install -y rabbitmq-server", "brew install rabbitmq"):
        assert command in message


def test_the_command_line_warns_with_the_fix_and_exits_0(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path, closed_port: int
) -> None:
    # Without RabbitMQ the course still opens: `services start` starts the rest, warns, and exits 0.
    monkeypatch.setattr(rabbitmq_server.shutil, "which", lambda _name: None)
    monkeypatch.setattr(kafka_broker, "start", lambda settings, say: _FakeStatus())  # no broker process in a unit test
    monkeypatch.setenv("COURSE_RABBITMQ_URL", f"amqp://guest:guest@127.0.0.1:{closed_port}/%2F")
    monkeypatch.setenv("COURSE_POSTGRES_URL", f"postgresql://postgres@127.0.0.1:{closed_port}/test")
    monkeypatch.setenv("COURSE_STATE_DIR", str(tmp_path))
    try:
        assert main(["services", "start"]) == 0
    finally:
        get_settings.cache_clear()  # the next test must not inherit settings read from this test's environment
    out = capsys.readouterr().out
    assert out.index("Kafka:") < out.index("RabbitMQ:"), "Kafka is started first"
    assert "warning: RabbitMQ is not ready" in out and "How to fix" in out and "Traceback" not in out
    assert "these notebooks run without it: 00, 01, 02, 03, 04, 07, 08" in out


class _FakeStatus:
    def describe(self) -> str:
        return "tansu is running (started by the course, pid 1)"


def test_make_lab_opens_jupyterlab_even_without_rabbitmq(monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str], closed_port: int) -> None:
    from course_lib.ops import cli, doctor

    def no_rabbitmq(*_args: object, **_kwargs: object) -> str:
        raise ServiceUnavailable("RabbitMQ", "127.0.0.1:5672", "nothing listens there",
                                 "sudo systemctl start rabbitmq-server")

    monkeypatch.setattr(rabbitmq_server, "ensure_running", no_rabbitmq)
    monkeypatch.setattr(kafka_broker, "start", lambda *_a, **_k: _FakeStatus())
    monkeypatch.setenv("COURSE_POSTGRES_URL", f"postgresql://postgres@127.0.0.1:{closed_port}/test")
    monkeypatch.setattr(doctor, "run_doctor", lambda: doctor.DoctorReport([]))
    opened: list[list[str]] = []
    monkeypatch.setattr(cli.subprocess, "call", lambda command, **_kw: opened.append(command) or 0)
    monkeypatch.setattr(cli.os, "chdir", lambda _path: None)
    try:
        assert main(["lab", "--no-browser"]) == 0
    finally:
        get_settings.cache_clear()
    assert opened and opened[0][1:4] == ["-m", "jupyter", "lab"], "JupyterLab was not opened"
    out = capsys.readouterr().out
    assert "warning: RabbitMQ is not ready" in out and "How to fix: sudo systemctl start rabbitmq-server" in out
