"""The doctor against broken and hung services: every row names its address and the fix for *that* failure.

Hung services are :class:`FrozenServer` instances (accept TCP, never answer); the shared services are only read.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest

from course_lib.config import Settings, get_settings
from course_lib.ops.doctor import CheckResult, check_rabbitmq, check_rabbitmq_management, run_doctor
from tests.integration.frozen_server import FrozenServer, closed_port

pytestmark = pytest.mark.timeout(90)

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _settings(tmp_path: Path, **overrides: Any) -> Settings:
    """This machine's settings with some values replaced; state goes to ``tmp_path``."""
    values = {**get_settings().model_dump(), "state_dir": tmp_path, **overrides}
    return Settings(_env_file=None, **values)


def _rows_by_kind(check: Callable[[Settings], CheckResult], setting: str, urls: dict[str, str],
                  tmp_path: Path) -> dict[str, CheckResult]:
    """One row per failure kind; each is red, names its address, and has a fix no other kind shares."""
    rows = {kind: check(_settings(tmp_path, **{setting: url, "connect_timeout_s": 0.5})) for kind, url in urls.items()}
    for kind, row in rows.items():
        assert not row.ok and row.url in row.detail, (kind, row)
    assert len({row.fix for row in rows.values()}) == len(rows)
    return rows


def test_the_doctor_is_not_ready_when_the_event_store_cannot_be_opened(
    rabbitmq_url: str, kafka_bootstrap: str, tmp_path: Path
) -> None:
    damaged = tmp_path / "events.db"
    damaged.write_bytes(b"these bytes are not an SQLite database " * 100)
    before = damaged.read_bytes()
    report = run_doctor(_settings(tmp_path, eventstore_url=f"sqlite:///{damaged}"))
    assert not report.ok
    assert "All required services are ready." not in report.to_text()
    store = report.row("Event store")
    assert not store.ok and store.required
    assert str(damaged) in store.detail and "not a database" in store.detail
    assert "COURSE_EVENTSTORE_URL" in store.fix and "move it away" in store.fix
    assert report.row("RabbitMQ (AMQP)").ok and report.row("Kafka broker").ok  # only the store is at fault
    assert damaged.read_bytes() == before  # the doctor looked, it did not write


def test_an_unreachable_postgresql_event_store_is_its_own_red_row(postgres_url: str, tmp_path: Path) -> None:
    port = closed_port()
    store_url = f"postgresql://postgres:s3cret@127.0.0.1:{port}/test"
    report = run_doctor(_settings(tmp_path, eventstore_url=store_url, connect_timeout_s=1.0))
    store = report.row("Event store")
    assert not store.ok and not report.ok
    assert f"127.0.0.1:{port}" in store.detail and "nothing listens" in store.detail and "s3cret" not in store.detail
    assert "COURSE_EVENTSTORE_URL" in store.fix
    assert report.row("PostgreSQL").ok and report.row("PostgreSQL").required  # COURSE_POSTGRES_URL itself is fine


def test_a_postgresql_event_store_that_opens_is_green(postgres_url: str, unique_name: Any, tmp_path: Path) -> None:
    schema = unique_name("doctor").replace("-", "_")
    try:
        report = run_doctor(_settings(tmp_path, eventstore_url=f"{postgres_url}?schema={schema}"))
        assert report.row("Event store").ok, report.to_text()
        assert report.row("Event store").version == "PostgreSQL"
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_hung_services_are_reported_as_hung_with_their_address(tmp_path: Path) -> None:
    with FrozenServer() as frozen:
        at = f"127.0.0.1:{frozen.port}"
        report = run_doctor(_settings(
            tmp_path,
            rabbitmq_url=f"amqp://guest:s3cret@{at}/%2F",
            rabbitmq_management_url=f"http://guest:s3cret@{at}",
            kafka_bootstrap_servers=at,
            postgres_url=f"postgresql://postgres@{at}/test",
            eventstore_url="memory://",
            connect_timeout_s=0.5,
        ))
    for service in ("RabbitMQ (AMQP)", "RabbitMQ management", "Kafka broker", "PostgreSQL"):
        row = report.row(service)
        assert not row.ok, service
        assert at in row.detail and row.url in row.detail, row
        assert "accepted the connection but did not" in row.detail, row
        assert "hung" in row.fix, row
        assert "s3cret" not in row.detail + row.fix + row.url
    assert "password" not in report.row("RabbitMQ (AMQP)").fix
    assert report.row("Event store").ok and report.row("Event store").version == "in memory"


def test_every_rabbitmq_failure_kind_has_its_own_row_text(rabbitmq_url: str, postgres_url: str, tmp_path: Path) -> None:
    base = urlsplit(rabbitmq_url)
    closed = closed_port()
    with FrozenServer() as frozen:
        urls = {
            "refused": f"amqp://guest:guest@127.0.0.1:{closed}/%2F",
            "hung": f"amqp://guest:guest@127.0.0.1:{frozen.port}/%2F",
            "dns": "amqp://guest:guest@no-such-host.invalid:5672/%2F",
            "auth": base._replace(netloc=f"guest:wrong@{base.hostname}:{base.port}").geturl(),
            "vhost": base._replace(path="/t-no-such-vhost").geturl(),
            "protocol": f"amqp://guest:guest@127.0.0.1:{urlsplit(postgres_url).port}/%2F",
        }
        rows = _rows_by_kind(check_rabbitmq, "rabbitmq_url", urls, tmp_path)
    assert "password" in rows["auth"].fix and "add_vhost" in rows["vhost"].fix and "hung" in rows["hung"].fix
    assert "services start" in rows["refused"].fix and "correct the host" in rows["dns"].fix


def test_every_management_failure_kind_has_its_own_row_text(rabbitmq_url: str, postgres_url: str,
                                                            tmp_path: Path) -> None:
    real = check_rabbitmq_management(get_settings())
    if not real.ok:  # the login case needs the real management API
        (pytest.fail if IN_CI else pytest.skip)(f"RabbitMQ management is not reachable: {real.detail}")
    management = urlsplit(get_settings().rabbitmq_management_url)
    closed = closed_port()
    with FrozenServer() as frozen:
        urls = {
            "refused": f"http://guest:guest@127.0.0.1:{closed}",
            "hung": f"http://guest:guest@127.0.0.1:{frozen.port}",
            "dns": "http://guest:guest@no-such-host.invalid:15672",
            "auth": management._replace(netloc=f"guest:wrong@{management.hostname}:{management.port}").geturl(),
            "protocol": f"http://guest:guest@127.0.0.1:{urlsplit(postgres_url).port}",
        }
        rows = _rows_by_kind(check_rabbitmq_management, "rabbitmq_management_url", urls, tmp_path)
    assert "password" in rows["auth"].fix and "hung" in rows["hung"].fix and "15672" in rows["protocol"].fix


def test_every_row_names_its_address_when_all_is_well(rabbitmq_url: str, kafka_bootstrap: str,
                                                      tmp_path: Path) -> None:
    report = run_doctor(_settings(tmp_path))
    for row in report.results:
        assert row.url and row.url in row.detail, row
