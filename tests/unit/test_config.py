from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from course_lib.config import Settings, SettingsError, get_settings, load_settings, redact
from course_lib.errors import CourseError


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


# --- Malformed settings: one line per bad value, naming the variable, its value (password hidden) and the fix ---

BAD_VALUES = [
    ("COURSE_EVENTSTORE_URL", "mysql://root:s3cret@127.0.0.1/shop", "must be sqlite:///path"),
    ("COURSE_EVENTSTORE_URL", "sqlite://events.db", "three slashes"),
    ("COURSE_EVENTSTORE_URL", "sqlite:///{folder}", "names the folder"),
    ("COURSE_RABBITMQ_URL", "http://guest:s3cret@127.0.0.1:5672/%2F", "must start with amqp://"),
    ("COURSE_RABBITMQ_URL", "amqp://guest:s3cret@127.0.0.1:fivek/%2F", "not a valid URL"),
    ("COURSE_RABBITMQ_URL", "amqp:///%2F", "names no host"),
    ("COURSE_RABBITMQ_MANAGEMENT_URL", "ftp://guest:s3cret@127.0.0.1:15672", "must start with http://"),
    ("COURSE_RABBITMQ_MANAGEMENT_URL", "http://guest:s3cret@127.0.0.1:99999", "not a valid URL"),
    ("COURSE_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1", "host:port"),
    ("COURSE_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092,", "host:port"),
    ("COURSE_KAFKA_BOOTSTRAP_SERVERS", "PLAINTEXT://127.0.0.1:9092", "without a scheme"),
    ("COURSE_POSTGRES_URL", "mysql://root:s3cret@127.0.0.1/test", "must start with postgresql://"),
    ("COURSE_STATE_DIR", "{file}", "is a file, not a folder"),
    ("COURSE_CONNECT_TIMEOUT_S", "three", "valid number"),
    ("COURSE_CONNECT_TIMEOUT_S", "0", "greater than 0"),
    ("COURSE_CONNECT_TIMEOUT_S", "nan", "finite number"),
]


@pytest.fixture
def fresh_settings() -> Iterator[None]:
    """``get_settings()`` reads this test's environment; the next test does not inherit it."""
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _fill(value: str, tmp_path: Path) -> str:
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    return value.format(folder=tmp_path, file=a_file)


@pytest.mark.parametrize(("variable", "value", "problem"), BAD_VALUES)
def test_a_malformed_setting_is_one_line_with_variable_value_and_fix(
    variable: str, value: str, problem: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fresh_settings: None
) -> None:
    value = _fill(value, tmp_path)
    monkeypatch.setenv(variable, value)
    with pytest.raises(CourseError) as caught:  # not pydantic's ValidationError with its links and input dumps
        get_settings()
    header, *lines = str(caught.value).splitlines()
    assert header == "1 setting is malformed (from the environment or a .env file):"
    assert len(lines) == 1
    shown = value.replace("s3cret", "***")
    assert lines[0].startswith(f"  {variable}={shown!r}: "), lines[0]
    assert problem in lines[0] and " — fix: set it to " in lines[0]
    assert "s3cret" not in str(caught.value) and "pydantic" not in str(caught.value)


def test_several_malformed_settings_are_reported_together(
    monkeypatch: pytest.MonkeyPatch, fresh_settings: None
) -> None:
    monkeypatch.setenv("COURSE_RABBITMQ_URL", "http://x")
    monkeypatch.setenv("COURSE_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1")
    monkeypatch.setenv("COURSE_EVENTSTORE_URL", "mysql://x")
    with pytest.raises(SettingsError) as caught:
        get_settings()
    assert [p.setting for p in caught.value.problems] == [
        "COURSE_RABBITMQ_URL", "COURSE_KAFKA_BOOTSTRAP_SERVERS", "COURSE_EVENTSTORE_URL",
    ]
    assert len(str(caught.value).splitlines()) == 1 + 3


def test_good_values_still_pass(tmp_path: Path) -> None:
    settings = load_settings(
        _env_file=None,
        rabbitmq_url="amqps://user:pw@broker.example:5671/shop",
        kafka_bootstrap_servers="10.0.0.1:9092, 10.0.0.2:9092",
        eventstore_url=f"sqlite:///{tmp_path / 'events.db'}",
        state_dir=tmp_path / "not-yet-created",
        connect_timeout_s=0.5,
    )
    assert settings.kafka_host_port == ("10.0.0.1", 9092)
    assert load_settings(_env_file=None, eventstore_url="memory://").eventstore_url == "memory://"


def test_redact_copes_with_urls_too_broken_to_parse() -> None:
    assert redact("amqp://guest:s3cret@[::1/%2F") == "amqp://guest:***@[::1/%2F"
