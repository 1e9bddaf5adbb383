"""Kafka integration fixtures: a topic factory that deletes what it created, and cleanup of consumer groups."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from course_lib.messaging.kafka import Topics


@pytest.fixture
def topics(kafka_bootstrap: str) -> Iterator[Topics]:
    admin = Topics(kafka_bootstrap)
    yield admin
    admin.close()


@pytest.fixture
def make_topic(topics: Topics, unique_name: Callable[[str], str]) -> Iterator[Callable[..., str]]:
    """``make_topic("orders", partitions=3)`` → a fresh topic name; deleted after the test."""
    created: list[str] = []

    def make(prefix: str, partitions: int = 1) -> str:
        name = unique_name(prefix)
        topics.create(name, partitions)
        created.append(name)
        return name

    yield make
    topics.delete(*created)


@pytest.fixture
def group_id(topics: Topics, unique_name: Callable[[str], str]) -> Iterator[str]:
    """A consumer-group id no other test uses; the group is deleted afterwards."""
    name = unique_name("group")
    yield name
    topics.delete_group(name)
