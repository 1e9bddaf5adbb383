"""The service commands against the real machine: idempotent start, stop, stale pid files, foreign ports."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from course_lib.config import Settings
from course_lib.errors import PortTaken
from course_lib.kafka_probe import identify_kafka
from course_lib.ops.doctor import run_doctor
from course_lib.ops.services import kafka_broker
from tests.ports import free_port


@pytest.fixture
def private_broker_settings(tmp_path: Path) -> Settings:
    """Settings for a second embedded broker on a free port, so the shared one is never touched."""
    return Settings(_env_file=None, kafka_bootstrap_servers=f"127.0.0.1:{free_port()}", state_dir=tmp_path)


def test_start_twice_leaves_one_broker_and_stop_leaves_none(private_broker_settings: Settings) -> None:
    first = kafka_broker.start(private_broker_settings)
    try:
        second = kafka_broker.start(private_broker_settings)
        assert first.managed_pid is not None and first.managed_pid == second.managed_pid
        identity = identify_kafka(private_broker_settings.kafka_bootstrap_servers)
        assert identity is not None and identity.flavour == "tansu"
    finally:
        assert kafka_broker.stop(private_broker_settings) is True
    assert kafka_broker.status(private_broker_settings).running is False
    assert kafka_broker.stop(private_broker_settings) is False  # stopping again is harmless


def test_stale_pid_file_is_cleared(private_broker_settings: Settings) -> None:
    pid_file = private_broker_settings.state_dir / "kafka-broker.pid"
    pid_file.write_text("999999")
    assert kafka_broker.status(private_broker_settings).managed_pid is None
    assert not pid_file.exists()


def test_port_held_by_something_else_is_refused(private_broker_settings: Settings) -> None:
    host, port = private_broker_settings.kafka_host_port
    with socket.socket() as squatter:
        squatter.bind((host, port))
        squatter.listen()
        started = time.monotonic()
        with pytest.raises(PortTaken, match="not a Kafka broker"):
            kafka_broker.start(private_broker_settings)
        assert time.monotonic() - started < 10


def test_doctor_reports_a_closed_port_quickly_with_the_fix(tmp_path: Path, closed_port: int) -> None:
    closed = closed_port
    settings = Settings(
        _env_file=None,
        rabbitmq_url=f"amqp://guest:guest@127.0.0.1:{closed}/%2F",
        rabbitmq_management_url=f"http://guest:guest@127.0.0.1:{closed}",
        kafka_bootstrap_servers=f"127.0.0.1:{closed}",
        postgres_url=f"postgresql://postgres@127.0.0.1:{closed}/test",
        state_dir=tmp_path,
    )
    started = time.monotonic()
    report = run_doctor(settings)
    assert time.monotonic() - started < 10
    assert not report.ok
    rabbit = report.row("RabbitMQ (AMQP)")
    assert not rabbit.ok and str(closed) in rabbit.detail and "services start" in rabbit.fix
    assert "services start" in report.row("Kafka broker").fix


def test_doctor_is_green_on_this_machine(rabbitmq_url: str, kafka_bootstrap: str) -> None:
    report = run_doctor()
    assert report.row("RabbitMQ (AMQP)").ok
    assert report.row("Kafka broker").ok
    assert report.row("Kafka broker").version in {"Tansu (embedded)", "Apache Kafka"}
