"""Settings from environment variables (prefix ``COURSE_``) and an optional ``.env`` file.

Defaults point at loopback services: ``127.0.0.1`` rather than ``localhost``, because RabbitMQ's guest user is
loopback-only and some systems resolve ``localhost`` to ``::1`` first.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def _default_state_dir() -> Path:
    # In a source checkout, keep state beside the project (git-ignored); when installed elsewhere, in $HOME.
    if (PROJECT_ROOT / "pyproject.toml").exists():
        return PROJECT_ROOT / ".course_state"
    return Path.home() / ".course_state"


class Settings(BaseSettings):
    """Where the course's services live. Override any field with ``COURSE_<FIELD>``."""

    model_config = SettingsConfigDict(
        env_prefix="COURSE_", env_file=(PROJECT_ROOT / ".env", ".env"), extra="ignore"
    )

    rabbitmq_url: str = "amqp://guest:guest@127.0.0.1:5672/%2F"
    rabbitmq_management_url: str = "http://guest:guest@127.0.0.1:15672"
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    postgres_url: str = "postgresql://postgres@127.0.0.1:5432/test"
    eventstore_url: str = "sqlite:///" + str(_default_state_dir() / "events.db")
    state_dir: Path = _default_state_dir()
    connect_timeout_s: float = 3.0

    @field_validator("rabbitmq_url")
    @classmethod
    def _amqp_scheme(cls, value: str) -> str:
        if urlsplit(value).scheme not in {"amqp", "amqps"}:
            raise ValueError(f"rabbitmq_url must start with amqp:// or amqps://, got {value!r}")
        return value

    @field_validator("rabbitmq_management_url")
    @classmethod
    def _http_scheme(cls, value: str) -> str:
        if urlsplit(value).scheme not in {"http", "https"}:
            raise ValueError(f"rabbitmq_management_url must start with http:// or https://, got {value!r}")
        return value.rstrip("/")

    @field_validator("kafka_bootstrap_servers")
    @classmethod
    def _host_port_list(cls, value: str) -> str:
        for server in value.split(","):
            host, _, port = server.strip().rpartition(":")
            if not host or not port.isdigit():
                raise ValueError(f"kafka_bootstrap_servers must be host:port[,host:port], got {value!r}")
        return value

    @field_validator("postgres_url")
    @classmethod
    def _postgres_scheme(cls, value: str) -> str:
        if urlsplit(value).scheme not in {"postgresql", "postgres"}:
            raise ValueError(f"postgres_url must start with postgresql://, got {value!r}")
        return value

    @field_validator("eventstore_url")
    @classmethod
    def _store_scheme(cls, value: str) -> str:
        if urlsplit(value).scheme not in {"sqlite", "postgresql", "postgres", "memory"}:
            raise ValueError(
                f"eventstore_url must be sqlite:///path, postgresql://... or memory://, got {value!r}"
            )
        return value

    @property
    def kafka_host_port(self) -> tuple[str, int]:
        """The first bootstrap server as (host, port)."""
        host, _, port = self.kafka_bootstrap_servers.split(",")[0].strip().rpartition(":")
        return host, int(port)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings, read once per process. Call ``get_settings.cache_clear()`` after changing the env."""
    return Settings()


def redact(url: str) -> str:
    """A URL with its password replaced by ``***``, safe to print."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return parts._replace(netloc=netloc).geturl()
