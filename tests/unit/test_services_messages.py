"""What a learner sees when a service is missing: the exact commands to get it, in seconds."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from course_lib.cli import main
from course_lib.config import Settings, get_settings
from course_lib.errors import ServiceUnavailable
from course_lib.services import rabbitmq_server


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_no_rabbitmq_anywhere_names_docker_apt_and_homebrew(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(rabbitmq_server.shutil, "which", lambda _name: None)  # nothing installed
    settings = Settings(_env_file=None, rabbitmq_url=f"amqp://guest:guest@127.0.0.1:{_closed_port()}/%2F",
                        state_dir=tmp_path)
    with pytest.raises(ServiceUnavailable) as caught:
        rabbitmq_server.ensure_running(settings)
    message = str(caught.value)
    for command in ("docker compose up -d rabbitmq", "apt-get install -y rabbitmq-server", "brew install rabbitmq"):
        assert command in message


def test_the_command_line_prints_the_fix_instead_of_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setattr(rabbitmq_server.shutil, "which", lambda _name: None)
    monkeypatch.setenv("COURSE_RABBITMQ_URL", f"amqp://guest:guest@127.0.0.1:{_closed_port()}/%2F")
    monkeypatch.setenv("COURSE_STATE_DIR", str(tmp_path))
    try:
        assert main(["services", "start"]) == 2
    finally:
        get_settings.cache_clear()  # the next test must not inherit settings read from this test's environment
    err = capsys.readouterr().err
    assert err.startswith("error: RabbitMQ is not reachable") and "How to fix" in err and "Traceback" not in err
