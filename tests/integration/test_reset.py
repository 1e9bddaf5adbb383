"""The reset command against the real services: the course's resources go, everything else stays.

Other notebooks and tests run on the same brokers at the same time, so every reset here is narrowed with
``contains=<this test's tag>``; inside that, the naming rule alone decides what is deleted.
"""

from __future__ import annotations

import argparse
import io
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pika
import pytest
import requests
from kafka import KafkaConsumer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.structs import OffsetAndMetadata

from course_lib.config import Settings, get_settings
from course_lib.ops.cli_reset import add_parser
from course_lib.ops.reset import ResetScope, reset
from course_lib.waiting import wait_until


@pytest.fixture
def tag() -> str:
    return uuid.uuid4().hex[:10]


# --- the naming rule (no services) ------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "scope", "expected"), [
    ("nb05-orders-1a2b", ResetScope(), True),
    ("nb12-capstone", ResetScope(), True),
    ("nb5-orders", ResetScope(), False),
    ("xnb05-orders", ResetScope(), False),
    ("orders-nb05-", ResetScope(), False),
    ("amq.topic", ResetScope(), False),
    ("t-orders-test-x-1234", ResetScope(), False),
    ("t-orders-test-x-1234", ResetScope(include_test_leftovers=True), True),
    ("nb05-orders", ResetScope(frozenset({"05"})), True),
    ("nb06-orders", ResetScope(frozenset({"05"})), False),
    ("nb05-orders-abc", ResetScope(contains="abc"), True),
    ("nb05-orders-xyz", ResetScope(contains="abc"), False),
])
def test_the_naming_rule(name: str, scope: ResetScope, expected: bool) -> None:
    assert scope.matches(name) is expected


def test_a_notebook_number_must_have_two_digits() -> None:
    with pytest.raises(ValueError, match="two digits"):
        ResetScope(frozenset({"5"}))


# --- RabbitMQ ---------------------------------------------------------------------------------------------------

def _management(path: str) -> list[str]:
    """Names on the broker's default vhost, straight from the management API (not through the code under test)."""
    parts = urlsplit(get_settings().rabbitmq_management_url)
    response = requests.get(f"{parts.scheme}://{parts.hostname}:{parts.port or 15672}/api/{path}/%2F",
                            params={"columns": "name"}, auth=(parts.username or "guest", parts.password or "guest"),
                            timeout=5)
    response.raise_for_status()
    return [item["name"] for item in response.json()]


@pytest.fixture
def rabbit_resources(rabbitmq_url: str, tag: str) -> Iterator[dict[str, list[str]]]:
    """Course-named, test-named and unrelated queues and exchanges; whatever reset leaves is deleted afterwards."""
    made = {
        "course_queues": [f"nb99-reset-{tag}-q"], "course_exchanges": [f"nb99-reset-{tag}-x"],
        "test_queues": [f"t-reset-{tag}-q"],
        "other_queues": [f"orders-reset-{tag}", f"xnb99-reset-{tag}"], "other_exchanges": [f"shop-reset-{tag}"],
    }
    connection = pika.BlockingConnection(pika.URLParameters(rabbitmq_url))
    channel = connection.channel()
    for queue in made["course_queues"] + made["test_queues"] + made["other_queues"]:
        channel.queue_declare(queue, durable=True)  # durable: RabbitMQ 4 refuses non-durable shared queues
    for exchange in made["course_exchanges"] + made["other_exchanges"]:
        channel.exchange_declare(exchange, exchange_type="topic", durable=True)
    try:
        yield made
    finally:
        for queue in made["course_queues"] + made["test_queues"] + made["other_queues"]:
            channel.queue_delete(queue)
        for exchange in made["course_exchanges"] + made["other_exchanges"]:
            channel.exchange_delete(exchange)
        connection.close()


def test_reset_deletes_the_course_queues_and_exchanges_only(rabbit_resources: dict[str, list[str]],
                                                            tag: str) -> None:
    scope = ResetScope(contains=tag)
    plan = wait_until(lambda: (r := reset(scope, dry_run=True, services=["RabbitMQ"])).service("RabbitMQ").deleted
                      and r, timeout=10, what="the new queues to show in the management API")
    assert plan.service("RabbitMQ").deleted == [f"queue nb99-reset-{tag}-q", f"exchange nb99-reset-{tag}-x"]
    assert f"nb99-reset-{tag}-q" in _management("queues"), "a dry run deletes nothing"

    report = reset(scope, services=["RabbitMQ"])
    assert report.ok, report.to_text()
    assert report.service("RabbitMQ").deleted == plan.service("RabbitMQ").deleted
    queues, exchanges = set(_management("queues")), set(_management("exchanges"))
    assert not ({f"nb99-reset-{tag}-q"} & queues) and f"nb99-reset-{tag}-x" not in exchanges
    assert set(rabbit_resources["other_queues"] + rabbit_resources["test_queues"]) <= queues
    assert set(rabbit_resources["other_exchanges"]) <= exchanges
    assert {"amq.topic", "amq.direct"} <= exchanges

    leftovers = reset(ResetScope(include_test_leftovers=True, contains=tag), services=["RabbitMQ"])
    assert leftovers.service("RabbitMQ").deleted == [f"queue t-reset-{tag}-q"]
    assert set(rabbit_resources["other_queues"]) <= set(_management("queues"))


def _namespace(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["reset", *argv])


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_command_refuses_without_a_terminal_and_asks_on_one(rabbit_resources: dict[str, list[str]],
                                                                tag: str) -> None:
    wait_until(lambda: f"nb99-reset-{tag}-q" in _management("queues"), timeout=10, what="the queue to show")
    args = _namespace("--service", "RabbitMQ", "--contains", tag)
    out = io.StringIO()
    assert args.func(args, stdin=io.StringIO("y\n"), stdout=out) == 2  # a pipe is not a person saying yes
    assert "Refusing to delete without confirmation" in out.getvalue() and "--yes" in out.getvalue()
    assert f"nb99-reset-{tag}-q" in _management("queues")

    assert args.func(args, stdin=_Terminal("n\n"), stdout=io.StringIO()) == 2
    assert f"nb99-reset-{tag}-q" in _management("queues")

    out = io.StringIO()
    assert args.func(args, stdin=_Terminal("y\n"), stdout=out) == 0
    assert f"queue nb99-reset-{tag}-q" in out.getvalue() and "Course state reset." in out.getvalue()
    assert f"nb99-reset-{tag}-q" not in _management("queues")
    assert set(rabbit_resources["other_queues"]) <= set(_management("queues"))


# --- Kafka ------------------------------------------------------------------------------------------------------

def _commit_offset(bootstrap: str, group: str, topic: str) -> None:
    """Create a consumer group by committing an offset, without joining it (no group-join delay)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        consumer.commit({tp: OffsetAndMetadata(0, "", -1)})
    finally:
        consumer.close(autocommit=False)


def test_reset_deletes_the_course_topics_and_groups_only(kafka_bootstrap: str, tag: str) -> None:
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    course, leftover, other = f"nb99-reset-{tag}", f"t-reset-{tag}", f"orders-reset-{tag}"
    admin.create_topics([NewTopic(t, 1, 1) for t in (course, leftover, other)])
    try:
        wait_until(lambda: {course, leftover, other} <= set(admin.list_topics()), timeout=10, what="the topics")
        _commit_offset(kafka_bootstrap, f"{course}-g", course)
        _commit_offset(kafka_bootstrap, f"{other}-g", other)
        groups = lambda: {g["group_id"] for g in admin.list_groups()}  # noqa: E731
        wait_until(lambda: {f"{course}-g", f"{other}-g"} <= groups(), timeout=10, what="the groups")

        scope = ResetScope(contains=tag)
        plan = reset(scope, dry_run=True, services=["Kafka"])
        assert plan.service("Kafka").deleted == [f"group {course}-g", f"topic {course}"]
        assert course in admin.list_topics() and f"{course}-g" in groups(), "a dry run deletes nothing"

        report = reset(scope, services=["Kafka"])
        assert report.ok, report.to_text()
        assert report.service("Kafka").deleted == [f"group {course}-g", f"topic {course}"]
        assert course not in admin.list_topics() and f"{course}-g" not in groups()
        assert {leftover, other} <= set(admin.list_topics()) and f"{other}-g" in groups()
    finally:
        admin.delete_topics([t for t in (course, leftover, other) if t in admin.list_topics()], raise_errors=False)
        admin.delete_groups([f"{course}-g", f"{other}-g"])
        admin.close()


# --- PostgreSQL, unreachable services ---------------------------------------------------------------------------

def test_an_unreachable_service_is_named_with_its_fix_and_the_others_are_still_reset(
    postgres_url: str, tag: str, tmp_path: Path
) -> None:
    import psycopg

    course, other = f"nb99_reset_{tag}", f"shop_reset_{tag}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        for schema in (course, other):
            conn.execute(f"CREATE SCHEMA {schema}")
        conn.execute(f"CREATE TABLE public.{course}_log (id int)")
        try:
            nowhere = Settings(rabbitmq_url="amqp://guest:guest@127.0.0.1:1/%2F",
                               rabbitmq_management_url="http://guest:guest@127.0.0.1:1",
                               kafka_bootstrap_servers="127.0.0.1:1", postgres_url=postgres_url,
                               state_dir=tmp_path, connect_timeout_s=1)
            report = reset(ResetScope(contains=tag), settings=nowhere, temp_dir=tmp_path)
            assert not report.ok
            rabbit, kafka = report.service("RabbitMQ"), report.service("Kafka")
            assert "127.0.0.1:1" in rabbit.unreachable and "rabbitmq_management" in rabbit.unreachable
            assert "127.0.0.1:1" in kafka.unreachable and "services start" in kafka.unreachable
            assert report.service("PostgreSQL").deleted == [f"schema {course}", f"table public.{course}_log"]
            assert "NOT RESET" in report.to_text() and "run the reset again" in report.to_text()
            schemas = {row[0] for row in conn.execute("SELECT nspname FROM pg_namespace")}
            assert course not in schemas and other in schemas
            assert conn.execute("SELECT to_regclass(%s)", (f"public.{course}_log",)).fetchone() == (None,)
        finally:
            conn.execute(f"DROP SCHEMA IF EXISTS {course} CASCADE")
            conn.execute(f"DROP SCHEMA IF EXISTS {other} CASCADE")
            conn.execute(f"DROP TABLE IF EXISTS public.{course}_log")


# --- SQLite files -----------------------------------------------------------------------------------------------

def test_reset_deletes_the_notebooks_sqlite_files_but_not_the_broker_files(tmp_path: Path) -> None:
    temp, state = tmp_path / "tmp", tmp_path / "state"
    for folder in ("course-nb04-abc", "nb09-xyz", "nb99-old", "pytest-of-me", "nb9-short", "t-reset-1"):
        (temp / folder).mkdir(parents=True)
        (temp / folder / "events.db").write_text("sqlite")
    state.mkdir()
    for name in ("events.db", "events.db-wal", "read_models.sqlite", "kafka-broker.pid", "kafka-broker.log"):
        (state / name).write_text("x")
    settings = Settings(state_dir=state)

    plan = reset(ResetScope(include_test_leftovers=True), dry_run=True, services=["SQLite files"],
                 settings=settings, temp_dir=temp)
    expected = [str(temp / f) for f in ("course-nb04-abc", "nb09-xyz", "nb99-old")]
    expected += [str(state / f) for f in ("events.db", "events.db-wal", "read_models.sqlite")]
    assert plan.service("SQLite files").deleted == expected
    assert all(Path(p).exists() for p in expected), "a dry run deletes nothing"

    only_09 = reset(ResetScope(frozenset({"09"})), services=["SQLite files"], settings=settings, temp_dir=temp)
    assert only_09.service("SQLite files").deleted == [str(temp / "nb09-xyz")]  # and no state files

    report = reset(services=["SQLite files"], settings=settings, temp_dir=temp)
    assert report.ok and not any(Path(p).exists() for p in expected)
    assert sorted(p.name for p in temp.iterdir()) == ["nb9-short", "pytest-of-me", "t-reset-1"]
    assert sorted(p.name for p in state.iterdir()) == ["kafka-broker.log", "kafka-broker.pid"]
