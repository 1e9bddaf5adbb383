"""Fixtures for the RabbitMQ tests: a connection and a topology registry that deletes what a test declared."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from course_lib.messaging.rabbitmq import RabbitConnection, Topology, declare, delete_topology

pytestmark = pytest.mark.rabbitmq


@pytest.fixture
def conn(rabbitmq_url: str) -> Iterator[RabbitConnection]:
    connection = RabbitConnection(rabbitmq_url, name="tests")
    connection.ensure_open()
    yield connection
    connection.close()


@pytest.fixture
def declared(conn: RabbitConnection) -> Iterator[Callable[[Topology], Topology]]:
    """``declared(topology)`` declares it now and deletes it after the test."""
    created: list[Topology] = []

    def declare_for_test(topology: Topology) -> Topology:
        created.append(topology)
        declare(conn, topology)
        return topology

    yield declare_for_test
    cleaner = RabbitConnection(conn.url, name="tests-cleanup")
    for topology in reversed(created):
        delete_topology(cleaner, topology)
    cleaner.close()
