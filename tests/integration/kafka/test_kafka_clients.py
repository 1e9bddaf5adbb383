"""Producer, bounded reads, group consumers, lag and transactions against the real broker."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from course_lib.clock import FixedStepClock, SequentialIds
from course_lib.errors import WorkerFailed
from course_lib.messages import RawEvent, Registry, envelope, to_bytes
from course_lib.messaging.errors import DestinationNotFound, WorkerAlreadyStarted
from course_lib.messaging.kafka import (
    ExactlyOnceProcessor,
    GroupConsumer,
    GroupWorker,
    Output,
    Producer,
    ProducerFenced,
    Record,
    TopicNotFound,
    TopicReader,
    Topics,
    TransactionalProducer,
    read_topic,
)
from course_lib.shop.events import OrderCreated
from course_lib.waiting import wait_until


def test_keyed_envelopes_keep_per_key_order_and_carry_type_and_correlation_headers(
        kafka_bootstrap: str, make_topic: Callable[..., str]) -> None:
    topic = make_topic("orders", partitions=3)
    clock, ids = FixedStepClock(), SequentialIds()
    with Producer(kafka_bootstrap) as producer:
        for n in range(30):
            order = f"o{n % 5}"
            producer.send(topic, envelope(OrderCreated(order_id=order, customer_id=str(n)), clock=clock, ids=ids,
                                          stream_id=order))
    records = read_topic(topic, kafka_bootstrap, timeout=5)
    assert len(records) == 30
    partitions_by_key: dict[str, set[int]] = {}
    for record in records:
        assert record.key is not None
        partitions_by_key.setdefault(record.key, set()).add(record.partition)
    assert all(len(p) == 1 for p in partitions_by_key.values())  # one key, one partition
    for key in partitions_by_key:
        customers = [int(r.envelope().message.customer_id) for r in records if r.key == key]  # type: ignore[attr-defined]
        assert customers == sorted(customers)  # per-key order kept
    first = records[0]
    assert first.message_type == "OrderCreated"
    assert first.headers["correlation_id"] == first.headers["message_id"]


def test_lag_is_high_water_mark_minus_committed_offset_per_partition(
        kafka_bootstrap: str, make_topic: Callable[..., str], group_id: str, topics: Topics) -> None:
    topic = make_topic("lag", partitions=2)
    with Producer(kafka_bootstrap) as producer:
        for i in range(10):  # several records per batch: the case Tansu's end_offsets() gets wrong
            producer.send_bytes(topic, b"x", partition=i % 2)
    assert topics.end_offsets(topic) == {0: 5, 1: 5}
    consumer = GroupConsumer(topic, group_id, kafka_bootstrap)
    try:
        consumer.wait_for_assignment()
        got = consumer.poll(max_messages=4, timeout=5)
        committed = consumer.commit()
    finally:
        consumer.close()
    assert len(got) == 4
    lag = topics.lag(group_id, topic)
    assert sum(p.lag for p in lag.values()) == 6
    for partition, info in lag.items():
        assert info.committed == committed.get(partition)  # None where the group committed nothing
        assert info.lag == 5 - (info.committed or 0) and info.log_start == 0
    latest = topics.lag(group_id, topic, auto_offset_reset="latest")
    assert sum(p.lag for p in latest.values()) == sum(5 - c for c in committed.values())  # resumes at the end


def test_a_consumer_that_crashes_before_committing_gets_the_records_again(
        kafka_bootstrap: str, make_topic: Callable[..., str], group_id: str) -> None:
    topic = make_topic("redeliver", partitions=1)
    with Producer(kafka_bootstrap) as producer:
        for i in range(3):
            producer.send_bytes(topic, str(i).encode())
    first = GroupConsumer(topic, group_id, kafka_bootstrap)
    assert [r.value for r in first.poll(max_messages=3, timeout=10)] == [b"0", b"1", b"2"]
    first.close(commit=False)  # processed, never committed
    second = GroupConsumer(topic, group_id, kafka_bootstrap)
    try:
        assert [r.value for r in second.poll(max_messages=3, timeout=10)] == [b"0", b"1", b"2"]
    finally:
        second.close(commit=True)


def test_topic_reader_replays_from_the_beginning_and_reports_the_end(
        kafka_bootstrap: str, make_topic: Callable[..., str]) -> None:
    topic = make_topic("replay", partitions=2)
    with Producer(kafka_bootstrap) as producer:
        for i in range(6):
            producer.send_bytes(topic, str(i).encode(), key=str(i))
    with TopicReader(topic, kafka_bootstrap) as reader:
        assert len(reader.read_all(timeout=5)) == 6
        assert reader.at_end()
        assert sum(reader.end_offsets().values()) == 6
        reader.seek_to_beginning()
        assert sorted(r.value for r in reader.read_all(timeout=5)) == [str(i).encode() for i in range(6)]


def _upper(record: Record) -> list[Output]:
    return [Output(record.topic + "-out", record.key, record.value.upper())]


def test_exactly_once_processor_commits_outputs_and_offsets_together(
        kafka_bootstrap: str, topics: Topics, unique_name: Callable[[str], str], group_id: str) -> None:
    source = unique_name("eos")
    topics.create(source, 2)
    topics.create(source + "-out", 1)
    try:
        with Producer(kafka_bootstrap) as producer:
            for word in ["a", "b", "c", "d"]:
                producer.send_bytes(source, word.encode(), key=word)
        processor = ExactlyOnceProcessor(source, group_id, _upper, transactional_id=unique_name("txn"),
                                         bootstrap=kafka_bootstrap)
        try:
            assert processor.process(max_messages=10, timeout=5) == 4
            assert processor.process(max_messages=10, timeout=0.5) == 0  # offsets were committed with the outputs
        finally:
            processor.close()
        assert sorted(r.value for r in read_topic(source + "-out", kafka_bootstrap,
                                                  isolation_level="read_committed")) == [b"A", b"B", b"C", b"D"]
        assert sum(topics.group_offsets(group_id)[source].values()) == 4
    finally:
        topics.delete(source, source + "-out")


def test_a_zombie_producer_with_the_same_transactional_id_is_fenced(
        kafka_bootstrap: str, make_topic: Callable[..., str], unique_name: Callable[[str], str]) -> None:
    topic = make_topic("fence", partitions=1)
    txn_id = unique_name("txn")
    old = TransactionalProducer(txn_id, kafka_bootstrap)
    assert old.run_transaction([Output(topic, "k", b"before")]) == 1
    new = TransactionalProducer(txn_id, kafka_bootstrap)  # the replacement starts: epoch bumped
    try:
        with pytest.raises(ProducerFenced, match="fenced"):
            old.run_transaction([Output(topic, "k", b"zombie")])
        assert new.run_transaction([Output(topic, "k", b"after")]) == 1
    finally:
        old.close()
        new.close()
    values = [r.value for r in read_topic(topic, kafka_bootstrap, isolation_level="read_committed")]
    assert b"zombie" not in values
    assert values[0] == b"before" and values[-1] == b"after"


@pytest.mark.apache_kafka_only
def test_read_committed_consumers_never_see_aborted_records(
        kafka_bootstrap: str, make_topic: Callable[..., str], unique_name: Callable[[str], str]) -> None:
    topic = make_topic("abort", partitions=1)
    producer = TransactionalProducer(unique_name("txn"), kafka_bootstrap)
    try:
        producer.raw.begin_transaction()
        producer.send_bytes(topic, b"aborted")
        producer.raw.flush()
        producer.abort()
        producer.run_transaction([Output(topic, None, b"committed")])
    finally:
        producer.close()
    assert [r.value for r in read_topic(topic, kafka_bootstrap, isolation_level="read_committed")] == [b"committed"]
    assert b"aborted" in [r.value for r in read_topic(topic, kafka_bootstrap)]


def test_processor_that_crashes_before_commit_reprocesses_and_read_committed_sees_each_output_once(
        kafka_bootstrap: str, topics: Topics, unique_name: Callable[[str], str], group_id: str,
        kafka_flavour: str) -> None:
    source = unique_name("eos2")
    topics.create(source, 1)
    topics.create(source + "-out", 1)
    try:
        with Producer(kafka_bootstrap) as producer:
            for word in ["x", "y"]:
                producer.send_bytes(source, word.encode())
        processor = ExactlyOnceProcessor(source, group_id, _upper, transactional_id=unique_name("txn"),
                                         bootstrap=kafka_bootstrap)
        try:
            assert processor.process(max_messages=10, timeout=5, crash_before_commit=True) == 0
            assert processor.process(max_messages=10, timeout=5) == 2  # the same records, again
        finally:
            processor.close()
        committed_view = [r.value for r in read_topic(source + "-out", kafka_bootstrap,
                                                      isolation_level="read_committed")]
        if kafka_flavour == "apache-kafka":
            assert committed_view == [b"X", b"Y"]
        else:  # Tansu shows aborted records to read_committed readers too (see DESIGN.md)
            assert committed_view[-2:] == [b"X", b"Y"]
        assert topics.group_offsets(group_id)[source] == {0: 2}
    finally:
        topics.delete(source, source + "-out")


def test_a_failing_handler_without_dead_letter_topic_stops_the_worker_before_committing_that_record(
        kafka_bootstrap: str, make_topic: Callable[..., str], group_id: str, topics: Topics) -> None:
    topic = make_topic("strict", partitions=1)
    with Producer(kafka_bootstrap) as producer:
        for value in [b"ok", b"boom", b"never reached"]:
            producer.send_bytes(topic, value)
    handled: list[bytes] = []

    def handle(record: Record) -> None:
        if record.value == b"boom":
            raise ValueError("cannot handle boom")
        handled.append(record.value)

    worker = GroupWorker(topic, group_id, handle, bootstrap=kafka_bootstrap).start()
    wait_until(lambda: not worker.running, timeout=20, what="the worker to stop on the failing record")
    with pytest.raises(WorkerFailed, match="cannot handle boom") as stopped:
        worker.stop()  # whoever stops it hears why it had stopped
    assert isinstance(stopped.value.__cause__, ValueError)
    assert isinstance(worker.error, ValueError) and handled == [b"ok"]
    assert topics.group_offsets(group_id)[topic] == {0: 1}  # "boom" was not committed: a restart retries it


def test_a_paused_worker_stays_in_the_group_while_lag_grows_and_catches_up_on_resume(
        kafka_bootstrap: str, make_topic: Callable[..., str], group_id: str, topics: Topics) -> None:
    topic = make_topic("pause", partitions=2)
    seen: list[bytes] = []
    worker = GroupWorker(topic, group_id, lambda r: seen.append(r.value), bootstrap=kafka_bootstrap).start()
    try:
        assert worker.wait_for_assignment() == [0, 1]
        worker.pause()
        with Producer(kafka_bootstrap) as producer:
            for i in range(8):
                producer.send_bytes(topic, str(i).encode(), partition=i % 2)
        assert sum(p.lag for p in topics.lag(group_id, topic).values()) == 8
        assert seen == [] and worker.assignment == [0, 1]  # still a member, not fetching
        worker.resume()
        wait_until(lambda: sum(p.lag for p in topics.lag(group_id, topic).values()) == 0, timeout=20,
                   what="the resumed worker to work off the lag")
    finally:
        worker.stop()
    assert sorted(seen) == [str(i).encode() for i in range(8)]


def test_a_round_trip_carries_causation_and_schema_version_and_a_worker_upcasts_with_its_own_registry(
        kafka_bootstrap: str, make_topic: Callable[..., str], group_id: str) -> None:
    topic = make_topic("headers", partitions=1)
    clock, ids = FixedStepClock(), SequentialIds()
    first = envelope(OrderCreated(order_id="o1", customer_id="c1"), clock=clock, ids=ids)
    caused = first.caused(OrderCreated(order_id="o2", customer_id="c1"), clock=clock, ids=ids)
    old = to_bytes(first).replace(b'"type":"OrderCreated"', b'"type":"OrderOpened"')  # as an older service wrote it
    with Producer(kafka_bootstrap) as producer:
        producer.send(topic, caused)
        producer.send_bytes(topic, old, key="o1", headers={"message_type": "OrderOpened", "causation_id": "c-0"})
    records = read_topic(topic, kafka_bootstrap, timeout=5, max_messages=2)
    assert records[0].headers["x-causation-id"] == str(first.message_id) == records[0].causation_id
    assert records[0].headers["x-schema-version"] == "1" and records[0].schema_version == 1
    assert records[1].causation_id == "c-0"  # the old header name still reads

    reg = Registry()
    reg.add(OrderCreated)
    reg.add_upcaster("OrderOpened", 1, lambda raw: RawEvent("OrderCreated", 2, raw.data))
    seen: list[tuple[str, int]] = []

    def handle(record: Record) -> None:
        env = record.envelope()
        seen.append((env.message.order_id, env.metadata.schema_version))  # type: ignore[attr-defined]

    worker = GroupWorker(topic, group_id, handle, bootstrap=kafka_bootstrap, registry=reg).start()
    try:
        wait_until(lambda: len(seen) == 2 or not worker.running, timeout=20, what="both records handled")
        with pytest.raises(WorkerAlreadyStarted):
            worker.start()
    finally:
        worker.stop()
    assert seen == [("o2", 1), ("o1", 2)]  # the old record arrived upcast by the worker's registry
    assert (worker.stats.processed, worker.stats.received, worker.stats.commits >= 1) == (2, 2, True)


def test_a_missing_topic_is_topic_not_found_like_a_missing_queue(kafka_bootstrap: str, topics: Topics,
                                                                 unique_name: Callable[[str], str]) -> None:
    missing = unique_name("missing")
    with pytest.raises(TopicNotFound, match=missing) as info:
        topics.describe(missing)
    assert isinstance(info.value, DestinationNotFound)
