"""The two broker packages are mirrored: the same module names, lifecycle rules, stats type, errors and headers."""

from __future__ import annotations

import importlib
import threading

import pika
import pytest

from course_lib.clock import FixedStepClock, SequentialIds
from course_lib.errors import CourseError, WorkerFailed
from course_lib.messages import envelope, to_bytes
from course_lib.messaging import kafka, rabbitmq
from course_lib.messaging.errors import DestinationNotFound, WorkerAlreadyStarted, WorkerStuck
from course_lib.messaging.kafka.producer import envelope_headers
from course_lib.messaging.rabbitmq.wire import decode, properties_for
from course_lib.messaging.workers import WorkerStats, refuse_second_start, stop_thread
from course_lib.shop.events import OrderCreated

MIRRORED = {"connection", "consumer", "worker", "admin", "errors"}


@pytest.mark.parametrize("module", sorted(MIRRORED))
def test_both_packages_have_the_same_module_names(module: str) -> None:
    importlib.import_module(f"course_lib.messaging.rabbitmq.{module}")
    importlib.import_module(f"course_lib.messaging.kafka.{module}")


def test_one_stats_type_and_one_not_found_base() -> None:
    assert rabbitmq.WorkerStats is kafka.WorkerStats is WorkerStats
    assert issubclass(rabbitmq.QueueNotFound, DestinationNotFound)
    assert issubclass(kafka.TopicNotFound, DestinationNotFound)
    assert issubclass(DestinationNotFound, CourseError)
    assert "Topics.create('t1'" in str(kafka.TopicNotFound("t1"))
    assert "declare it first" in str(rabbitmq.QueueNotFound("q1"))
    assert kafka.GroupConsumer.assignment.__class__ is kafka.GroupWorker.assignment.__class__ is property


def test_a_message_carries_the_same_causation_and_schema_version_headers_on_both_brokers() -> None:
    clock, ids = FixedStepClock(), SequentialIds()
    first = envelope(OrderCreated(order_id="o1", customer_id="c1"), clock=clock, ids=ids)
    caused = first.caused(OrderCreated(order_id="o2", customer_id="c1"), clock=clock, ids=ids)
    amqp = properties_for(caused).headers
    record = envelope_headers(caused)
    assert amqp["x-causation-id"] == record["x-causation-id"] == str(first.message_id)
    assert str(amqp["x-schema-version"]) == record["x-schema-version"] == "1"
    delivery = decode(pika.spec.Basic.Deliver(delivery_tag=1, routing_key="order.created"), properties_for(caused),
                      to_bytes(caused))
    read = kafka.Record("orders", 0, 0, "o2", to_bytes(caused), record)
    assert (delivery.causation_id, delivery.schema_version) == (read.causation_id, read.schema_version) == (
        str(first.message_id), 1)


def test_a_second_start_is_refused_with_what_to_do() -> None:
    refuse_second_start("w", None)  # never started: fine
    done = threading.Thread(target=lambda: None)
    done.start()
    done.join()
    with pytest.raises(WorkerAlreadyStarted, match="create a new one"):
        refuse_second_start("w", done)


def test_stop_raises_when_the_thread_outlives_the_timeout_and_chains_a_failure() -> None:
    release = threading.Event()
    stuck = threading.Thread(target=release.wait, daemon=True)
    stuck.start()
    try:
        with pytest.raises(WorkerStuck, match=r"did not stop within 0\.05s"):
            stop_thread("w", stuck, 0.05, None)
    finally:
        release.set()
    stop_thread("w", stuck, 10, None)  # ended: returns
    with pytest.raises(WorkerFailed) as info:
        stop_thread("w", stuck, 10, ValueError("boom"))
    assert isinstance(info.value.__cause__, ValueError)


def test_stats_count_for_either_broker() -> None:
    stats = WorkerStats(processed=2, commits=1)
    stats.recent.append(("processed", "x"))
    assert stats.as_dict() == {"received": 0, "processed": 2, "failed": 0, "retried": 0, "dead_lettered": 0,
                               "malformed": 0, "redelivered": 0, "commits": 1, "commit_failures": 0}
