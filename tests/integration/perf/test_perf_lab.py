"""The performance lab's live workloads against the real services: they do the work they claim, and clean up."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from course_lib.messaging.kafka import Topics
from course_lib.messaging.rabbitmq import QueueNotFound, RabbitConnection, passive_depth
from course_lib.perf import Run, side_by_side
from course_lib.perf.scenarios import PUBLISH_MODES, PerfLab
from course_lib.widgets.perf_lab import SCENARIOS, PerfLabWidget, live_measure


@pytest.fixture
def lab(rabbitmq_url: str, kafka_bootstrap: str) -> Iterator[PerfLab]:
    lab = PerfLab(rabbitmq_url=rabbitmq_url, kafka_bootstrap=kafka_bootstrap)
    yield lab
    lab.close()


def test_event_store_appends_every_event(lab: PerfLab) -> None:
    assert lab.eventstore_append(30, per_transaction=7)() == 30
    with pytest.raises(ValueError, match="at least 1"):
        lab.eventstore_append(1, per_transaction=0)


def test_publish_modes_deliver_and_leave_the_queue_empty(lab: PerfLab) -> None:
    for mode in PUBLISH_MODES:
        run = lab.rabbit_publish(50, mode)()
        assert isinstance(run, Run) and run.items == 50 and run.seconds > 0
        assert lab.queue_depth() == 0
    assert lab.fill_queue(40) == 40
    with pytest.raises(ValueError, match="is not one of"):
        lab.rabbit_publish(1, "sometimes")  # type: ignore[arg-type]


def test_consume_takes_exactly_what_was_filled(lab: PerfLab) -> None:
    run = lab.rabbit_consume(120, prefetch=10)()
    assert isinstance(run, Run) and run.items == 120
    assert lab.queue_depth() == 0


def test_kafka_produce_and_round_trips(lab: PerfLab) -> None:
    assert lab.kafka_produce(300, linger_ms=0)() == 300
    latencies = lab.kafka_round_trips(5, linger_ms=0)
    assert len(latencies) == 5 and all(0 < s < 10 for s in latencies)


def test_projection_rebuild_applies_the_whole_log(lab: PerfLab) -> None:
    comparison = side_by_side({"batched": lab.projection_rebuild(500, batch_size=100),
                               "naive": lab.projection_rebuild(100, batch_size=1)}, repeats=1, warmup=0)
    assert [r.items for r in comparison["batched"].runs] == [500]
    assert [r.items for r in comparison["naive"].runs] == [100]


def test_close_removes_everything_and_the_lab_can_be_used_again(rabbitmq_url: str, kafka_bootstrap: str) -> None:
    lab = PerfLab(rabbitmq_url=rabbitmq_url, kafka_bootstrap=kafka_bootstrap)
    lab.rabbit_publish(5, "confirm each")()
    topic = lab.kafka_topic(1)
    directory, queue = lab.dir, f"nb14-perf-{lab.tag}"
    lab.close()
    assert not directory.exists()
    with Topics(kafka_bootstrap) as topics:
        assert not topics.exists(topic)
    with RabbitConnection(rabbitmq_url) as conn, pytest.raises(QueueNotFound):
        passive_depth(conn, queue)
    assert lab.projection_rebuild(100, batch_size=10)() == 100  # usable again: a widget may outlive the notebook
    second = lab.dir
    lab.close()
    assert not second.exists()


def test_live_measure_covers_every_scenario(lab: PerfLab) -> None:
    widget = PerfLabWidget(live_measure(lab, repeats=1))
    for scenario, settings in SCENARIOS.items():
        point = widget.run(scenario, settings[0])
        assert point.value > 0 and point.runs >= 1
    assert len(widget.history) == len(SCENARIOS)
    with pytest.raises(ValueError, match="unknown scenario"):
        live_measure(lab)("RabbitMQ publish", "carrier pigeon")
