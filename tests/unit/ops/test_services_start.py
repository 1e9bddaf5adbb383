"""``services start`` starts what it can and warns about the rest; it never runs Debian's root-only tools as a user.

Fake ``rabbitmq-server`` / ``rabbitmq-plugins`` scripts record whether they were run, so these tests touch no real
broker. Ports are free ports of this machine that nothing listens on.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from course_lib.config import Settings
from course_lib.errors import ServiceUnavailable
from course_lib.ops.services import rabbitmq_server
from course_lib.platform_hints import Platform

DEBIAN_USER = Platform("linux", debian_like=True, systemd=True, user="ada")
MAC_USER = Platform("darwin", homebrew=True, user="ada")



@pytest.fixture
def fake_tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``rabbitmq-server`` and ``rabbitmq-plugins`` that only write down that they ran."""
    ran = tmp_path / "ran.txt"
    for tool in ("rabbitmq-server", "rabbitmq-plugins"):
        script = tmp_path / tool
        script.write_text(f"#!/bin/sh\necho {tool} \"$@\" >> {ran}\n")
        script.chmod(0o755)
    monkeypatch.setattr(rabbitmq_server.shutil, "which", lambda name: str(tmp_path / name))
    return ran


@pytest.fixture
def amqp_listener(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """Something accepting connections on a port the module takes for RabbitMQ's default AMQP port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = int(sock.getsockname()[1])
        monkeypatch.setattr(rabbitmq_server, "AMQP_PORT", port)
        yield port


def test_a_normal_user_on_debian_is_shown_sudo_and_nothing_is_run(fake_tools: Path, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch,
                                                                  closed_port: int) -> None:
    port = closed_port
    monkeypatch.setattr(rabbitmq_server, "AMQP_PORT", port)  # as if the local default port were closed
    settings = Settings(_env_file=None, rabbitmq_url=f"amqp://guest:guest@127.0.0.1:{port}/%2F", state_dir=tmp_path)
    said: list[str] = []
    with pytest.raises(ServiceUnavailable) as caught:
        rabbitmq_server.ensure_running(settings, timeout_s=1, say=said.append, platform=DEBIAN_USER)
    assert not fake_tools.exists(), "rabbitmq-server was run as a normal user on Debian"
    assert caught.value.fix.startswith("sudo systemctl start rabbitmq-server")
    assert said == []


@pytest.fixture
def management_off(amqp_listener: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                   closed_port: int) -> Settings:
    """RabbitMQ answers on AMQP; nothing listens on what the module takes for the management API's default port."""
    management = closed_port
    monkeypatch.setattr(rabbitmq_server, "MANAGEMENT_PORT", management)
    return Settings(_env_file=None, rabbitmq_url=f"amqp://guest:guest@127.0.0.1:{amqp_listener}/%2F",
                    rabbitmq_management_url=f"http://guest:guest@127.0.0.1:{management}", state_dir=tmp_path)


def test_the_management_plugin_is_enabled_only_with_sudo_on_debian(fake_tools: Path, management_off: Settings) -> None:
    settings = management_off
    with pytest.raises(ServiceUnavailable) as caught:
        rabbitmq_server.ensure_running(settings, say=lambda _line: None, platform=DEBIAN_USER)
    assert not fake_tools.exists(), "rabbitmq-plugins was run as a normal user on Debian"
    assert caught.value.fix == "sudo rabbitmq-plugins enable rabbitmq_management"


def test_a_wait_that_times_out_is_reported_as_a_failure_not_success(fake_tools: Path,
                                                                     management_off: Settings) -> None:
    # Homebrew: we may run rabbitmq-plugins ourselves. The fake one enables nothing, so the port stays closed.
    settings = management_off
    management = rabbitmq_server.MANAGEMENT_PORT
    said: list[str] = []
    with pytest.raises(ServiceUnavailable, match="did not open in 1 s"):
        rabbitmq_server.ensure_running(settings, management_timeout_s=1, say=said.append, platform=MAC_USER)
    assert fake_tools.read_text().split() == ["rabbitmq-plugins", "enable", "rabbitmq_management"]
    assert f"waiting up to 1 s for the management API to open 127.0.0.1:{management}" in said
    assert not any("enabled" in line for line in said)


def test_a_url_away_from_the_default_port_never_starts_the_local_server(fake_tools: Path, tmp_path: Path,
                                                                          closed_port: int) -> None:
    port = closed_port
    settings = Settings(_env_file=None, rabbitmq_url=f"amqp://guest:guest@127.0.0.1:{port}/%2F", state_dir=tmp_path)
    with pytest.raises(ServiceUnavailable, match=r"would listen on 127\.0\.0\.1:5672"):
        rabbitmq_server.ensure_running(settings, say=lambda _line: None, platform=MAC_USER)
    assert not fake_tools.exists()
