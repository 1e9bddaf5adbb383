"""Settings from environment variables (prefix ``COURSE_``) and an optional ``.env`` file.

Defaults point at loopback services: ``127.0.0.1`` rather than ``localhost``, because RabbitMQ's guest user is
loopback-only and some systems resolve ``localhost`` to ``::1`` first.

A malformed value is refused when the settings are read, not when a service is first called: ``get_settings()``
raises :class:`SettingsError`, one line per bad value naming the variable, its value (password hidden) and the fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, urlsplit

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from course_lib.errors import CourseError

PROJECT_ROOT = Path(__file__).resolve().parents[1]
ENV_PREFIX = "COURSE_"


def _default_state_dir() -> Path:
    # In a source checkout, keep state beside the project (git-ignored); when installed elsewhere, in $HOME.
    if (PROJECT_ROOT / "pyproject.toml").exists():
        return PROJECT_ROOT / ".course_state"
    return Path.home() / ".course_state"


# What to write instead, per setting: the second half of every "bad setting" line.
FIXES: dict[str, str] = {
    "rabbitmq_url": "set it to amqp://USER:PASSWORD@HOST:5672/VHOST (default amqp://guest:guest@127.0.0.1:5672/%2F)",
    "rabbitmq_management_url": "set it to http://USER:PASSWORD@HOST:15672 (default http://guest:guest@127.0.0.1:15672)",
    "kafka_bootstrap_servers": "set it to HOST:PORT[,HOST:PORT…] without a scheme (default 127.0.0.1:9092)",
    "postgres_url": "set it to postgresql://USER[:PASSWORD]@HOST:5432/DATABASE "
                    "(default postgresql://postgres@127.0.0.1:5432/test)",
    "eventstore_url": "set it to sqlite:///path/to/events.db (a file, not a folder), "
                      "postgresql://USER@HOST:5432/DATABASE or memory://",
    "state_dir": "set it to a folder you can write to (it is created if missing), or unset it for the default",
    "connect_timeout_s": "set it to a number of seconds greater than 0 and at most 300, e.g. 3",
}


def _split(value: str) -> SplitResult:
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises ValueError for a port that is not a number from 0 to 65535
    except ValueError as exc:
        raise ValueError(f"is not a valid URL ({exc})") from None
    return parts


def _check_server_url(value: str, schemes: tuple[str, ...]) -> SplitResult:
    parts = _split(value)
    if parts.scheme not in schemes:
        raise ValueError("must start with " + " or ".join(f"{scheme}://" for scheme in schemes))
    if not parts.hostname:
        raise ValueError("names no host")
    if parts.port == 0:
        raise ValueError("has port 0")
    return parts


class Settings(BaseSettings):
    """Where the course's services live. Override any field with ``COURSE_<FIELD>``."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=(PROJECT_ROOT / ".env", ".env"), extra="ignore"
    )

    rabbitmq_url: str = "amqp://guest:guest@127.0.0.1:5672/%2F"
    rabbitmq_management_url: str = "http://guest:guest@127.0.0.1:15672"
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    postgres_url: str = "postgresql://postgres@127.0.0.1:5432/test"
    eventstore_url: str = "sqlite:///" + str(_default_state_dir() / "events.db")
    state_dir: Path = _default_state_dir()
    connect_timeout_s: float = Field(default=3.0, gt=0, le=300, allow_inf_nan=False)

    @field_validator("rabbitmq_url")
    @classmethod
    def _amqp_url(cls, value: str) -> str:
        _check_server_url(value, ("amqp", "amqps"))
        return value

    @field_validator("rabbitmq_management_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        _check_server_url(value, ("http", "https"))
        return value.rstrip("/")

    @field_validator("kafka_bootstrap_servers")
    @classmethod
    def _host_port_list(cls, value: str) -> str:
        for server in value.split(","):
            server = server.strip()
            if "://" in server:
                raise ValueError(f"must be host:port without a scheme, got the server {server!r}")
            host, _, port = server.rpartition(":")
            if not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(f"must be host:port[,host:port] with a port from 1 to 65535, got the server "
                                 f"{server!r}")
        return value

    @field_validator("postgres_url")
    @classmethod
    def _postgres_url(cls, value: str) -> str:
        _check_server_url(value, ("postgresql", "postgres"))
        return value

    @field_validator("eventstore_url")
    @classmethod
    def _store_url(cls, value: str) -> str:
        scheme = _split(value).scheme
        if scheme in {"postgresql", "postgres"}:
            _check_server_url(value, ("postgresql", "postgres"))
        elif scheme == "sqlite":
            path = value[len("sqlite:///"):] if value.startswith("sqlite:///") else ""
            if not path:
                raise ValueError("must be sqlite:///path/to/file.db (three slashes, then the file)")
            if Path(path).is_dir():
                raise ValueError(f"names the folder {path}, not a database file")
        elif scheme != "memory":
            raise ValueError("must be sqlite:///path, postgresql://… or memory://")
        return value

    @field_validator("state_dir", mode="before")
    @classmethod
    def _folder(cls, value: Any) -> Any:
        if isinstance(value, str | Path) and not str(value).strip():
            raise ValueError("is empty")
        if isinstance(value, str | Path) and Path(value).exists() and not Path(value).is_dir():
            raise ValueError("is a file, not a folder")
        return value

    @property
    def kafka_host_port(self) -> tuple[str, int]:
        """The first bootstrap server as (host, port)."""
        host, _, port = self.kafka_bootstrap_servers.split(",")[0].strip().rpartition(":")
        return host, int(port)


@dataclass(frozen=True)
class SettingProblem:
    """One malformed setting: the variable, its value (password hidden), what is wrong and what to write."""

    setting: str
    value: str
    problem: str
    fix: str

    def line(self) -> str:
        """The one line a learner reads: ``COURSE_X='value': problem — fix: …``."""
        return f"{self.setting}={self.value!r}: {self.problem} — fix: {self.fix}"


class SettingsError(CourseError, ValueError):
    """One or more settings are malformed; ``problems`` has one entry per bad value."""

    def __init__(self, problems: list[SettingProblem]) -> None:
        self.problems = problems
        count = f"{len(problems)} setting is" if len(problems) == 1 else f"{len(problems)} settings are"
        lines = [f"{count} malformed (from the environment or a .env file):"]
        lines += [f"  {problem.line()}" for problem in problems]
        super().__init__("\n".join(lines))


def _problem(error: Any) -> SettingProblem:
    field = str(error["loc"][0]) if error["loc"] else "settings"
    value = error.get("input")
    shown = redact(value) if isinstance(value, str) else str(value)
    message = str(error["msg"]).removeprefix("Value error, ")
    return SettingProblem(ENV_PREFIX + field.upper(), shown, message, FIXES.get(field, "correct or unset it"))


def load_settings(**values: Any) -> Settings:
    """``Settings(**values)``, turning pydantic's report into a :class:`SettingsError` a learner can act on."""
    try:
        return Settings(**values)
    except ValidationError as exc:
        raise SettingsError([_problem(error) for error in exc.errors()]) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings, read once per process; :class:`SettingsError` when one is malformed.

    Call ``get_settings.cache_clear()`` after changing the environment.
    """
    return load_settings()


_USERINFO_PASSWORD = re.compile(r"(://[^:/@]*:)[^@/]*@")


def redact(url: str) -> str:
    """A URL with its password replaced by ``***``, safe to print (also for URLs too broken to parse)."""
    try:
        password = urlsplit(url).password
    except ValueError:
        password = None
    if password is None:
        return _USERINFO_PASSWORD.sub(r"\1***@", url)
    parts = urlsplit(url)
    netloc = parts.netloc.replace(f":{password}@", ":***@")
    return parts._replace(netloc=netloc).geturl()
