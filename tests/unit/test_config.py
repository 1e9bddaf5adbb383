from __future__ import annotations

import pytest
from pydantic import ValidationError

from course_lib.config import Settings, redact


def test_defaults_are_loopback_ip_not_localhost() -> None:
    settings = Settings(_env_file=None)
    assert "127.0.0.1" in settings.rabbitmq_url
    assert settings.kafka_host_port == ("127.0.0.1", 9092)
    assert "localhost" not in settings.rabbitmq_url + settings.kafka_bootstrap_servers


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COURSE_KAFKA_BOOTSTRAP_SERVERS", "10.0.0.5:19092")
    assert Settings(_env_file=None).kafka_host_port == ("10.0.0.5", 19092)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("rabbitmq_url", "http://127.0.0.1:5672", "amqp://"),
        ("kafka_bootstrap_servers", "127.0.0.1", "host:port"),
        ("postgres_url", "mysql://x", "postgresql://"),
        ("eventstore_url", "redis://x", "sqlite:///"),
    ],
)
def test_bad_settings_name_the_problem(field: str, value: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(_env_file=None, **{field: value})


def test_redact_hides_password() -> None:
    assert redact("amqp://guest:secret@127.0.0.1:5672/%2F") == "amqp://guest:***@127.0.0.1:5672/%2F"
    assert redact("postgresql://postgres@127.0.0.1/test") == "postgresql://postgres@127.0.0.1/test"
