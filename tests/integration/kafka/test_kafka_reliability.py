"""Reliability against the real broker: kill -9 mid-stream, rebalance under load, dead letters, window totals."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from course_lib.clock import FixedStepClock, SequentialIds
from course_lib.messages import envelope
from course_lib.messaging.kafka import GroupWorker, Producer, Record, Topics, WindowedJob, read_topic, results_table
from course_lib.messaging.kafka.deadletter import HEADER_ERROR, HEADER_OFFSET, HEADER_PARTITION, HEADER_TOPIC
from course_lib.shop.events import OrderCreated
from course_lib.streams import TumblingWindows, batch_totals
from course_lib.waiting import wait_until

ROOT = Path(__file__).resolve().parents[3]
WORKER_SCRIPT = Path(__file__).with_name("worker_process.py")


def _produce_ids(bootstrap: str, topic: str, ids: range) -> None:
    with Producer(bootstrap) as producer:
        for i in ids:
            producer.send_bytes(topic, json.dumps({"id": i}).encode(), key=f"k{i % 17}")


def _count(db_path: Path, sql: str) -> int:
    if not db_path.exists():
        return 0
    with sqlite3.connect(db_path, timeout=5) as db:
        try:
            return int(db.execute(sql).fetchone()[0])
        except sqlite3.OperationalError:  # the worker has not created its tables yet
            return 0


def _spawn(bootstrap: str, topic: str, group: str, db_path: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, str(WORKER_SCRIPT), bootstrap, topic, group, str(db_path)], cwd=ROOT)


def test_worker_killed_with_sigkill_loses_nothing_and_the_idempotent_sink_holds_each_record_once(
        kafka_bootstrap: str, make_topic: Callable[..., str], group_id: str, tmp_path: Path) -> None:
    topic = make_topic("kill9", partitions=3)
    total = 3_000
    _produce_ids(kafka_bootstrap, topic, range(total))
    db_path = tmp_path / "sink.db"

    first = _spawn(kafka_bootstrap, topic, group_id, db_path)
    try:
        wait_until(lambda: _count(db_path, "SELECT COUNT(*) FROM log") >= 300, timeout=30,
                   what="the first worker to process 300 records")
        first.send_signal(signal.SIGKILL)  # no commit, no leave-group: a real crash
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    processed_before_restart = _count(db_path, "SELECT COUNT(*) FROM log")
    assert processed_before_restart < total, "the kill must land mid-stream for this test to mean anything"

    second = _spawn(kafka_bootstrap, topic, group_id, db_path)
    try:
        wait_until(lambda: _count(db_path, "SELECT COUNT(*) FROM sink") == total, timeout=60,
                   what=f"the restarted worker to bring the sink to {total} records")
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(20)

    assert _count(db_path, "SELECT COUNT(DISTINCT id) FROM log") == total  # every record processed at least once
    assert _count(db_path, "SELECT COUNT(*) FROM sink") == total  # and held exactly once by the idempotent sink
    assert _count(db_path, "SELECT MIN(id) FROM sink") == 0
    assert _count(db_path, "SELECT MAX(id) FROM sink") == total - 1


def test_a_rebalance_under_load_loses_no_record(kafka_bootstrap: str, make_topic: Callable[..., str],
                                                group_id: str) -> None:
    topic = make_topic("rebalance", partitions=3)
    seen: list[int] = []
    lock = threading.Lock()

    def handle(record: Record) -> None:
        with lock:
            seen.append(int(record.json()["id"]))

    producing = threading.Event()
    sent: list[int] = []

    def produce() -> None:
        with Producer(kafka_bootstrap) as producer:
            i = 0
            while producing.is_set() or i < 500:
                producer.send_bytes(topic, json.dumps({"id": i}).encode(), key=f"k{i % 11}")
                sent.append(i)
                i += 1
                if i % 50 == 0:
                    producer.flush()  # keep a steady trickle instead of one burst

    first = GroupWorker(topic, group_id, handle, bootstrap=kafka_bootstrap, name="first").start()
    second = GroupWorker(topic, group_id, handle, bootstrap=kafka_bootstrap, name="second")
    producing.set()
    feeder = threading.Thread(target=produce)
    feeder.start()
    try:
        first.wait_for_assignment()
        second.start()
        wait_until(lambda: first.assignment and second.assignment
                   and sorted(first.assignment + second.assignment) == [0, 1, 2],
                   timeout=30, what="the two workers to share the three partitions")
        first.stop()  # one leaves while records keep coming
        wait_until(lambda: second.assignment == [0, 1, 2], timeout=30, what="the second worker to own everything")
    finally:
        producing.clear()
        feeder.join(30)
    try:
        wait_until(lambda: set(seen) >= set(sent), timeout=30, what="every sent record to be processed")
    finally:
        second.stop()
        first.stop()
    assert first.error is None and second.error is None
    assert set(seen) == set(range(len(sent)))
    assert len(sent) >= 500


def test_records_that_fail_to_parse_go_to_the_dead_letter_topic_and_the_worker_goes_on(
        kafka_bootstrap: str, make_topic: Callable[..., str], group_id: str) -> None:
    topic = make_topic("orders", partitions=1)
    dlq = make_topic("orders-dlq", partitions=1)
    clock, ids = FixedStepClock(), SequentialIds()
    with Producer(kafka_bootstrap) as producer:
        producer.send(topic, envelope(OrderCreated(order_id="o1", customer_id="c1"), clock=clock, ids=ids))
        producer.send_bytes(topic, b"{not json", key="o2", headers={"message_type": "OrderCreated"})
        producer.send(topic, envelope(OrderCreated(order_id="o3", customer_id="c3"), clock=clock, ids=ids))
    good: list[str] = []
    worker = GroupWorker(topic, group_id, lambda r: good.append(r.envelope().message.order_id),  # type: ignore[attr-defined]
                         bootstrap=kafka_bootstrap, dead_letter_topic=dlq).start()
    try:
        wait_until(lambda: worker.stats.processed + worker.stats.dead_lettered == 3, timeout=20,
                   what="three records handled")
    finally:
        worker.stop()
    assert good == ["o1", "o3"]
    dead = read_topic(dlq, kafka_bootstrap, timeout=5)
    assert len(dead) == 1
    letter = dead[0]
    assert letter.value == b"{not json" and letter.key == "o2"
    assert letter.headers[HEADER_TOPIC] == topic
    assert letter.headers[HEADER_PARTITION] == "0" and letter.headers[HEADER_OFFSET] == "1"
    assert "not JSON" in letter.headers[HEADER_ERROR]
    assert letter.headers["message_type"] == "OrderCreated"  # the original headers travel with it
    lag = Topics(kafka_bootstrap).lag(group_id, topic)
    assert lag[0].lag == 0  # the poison record was committed past, not retried forever


def _order_events(n: int) -> list[tuple[int, str, float]]:
    # Event times move forward with a little disorder (a few seconds), as orders from several shops would.
    return [(1_000 * i + (i * 7919) % 4_000, ("mug", "tee", "cap")[i % 3], float(100 + i % 9)) for i in range(n)]


def _extract(record: Record) -> tuple[int, str, float]:
    data = record.json()
    return int(data["t"]), str(data["sku"]), float(data["cents"])


def test_windowed_totals_equal_a_batch_computation_even_after_a_crash_mid_window(
        kafka_bootstrap: str, make_topic: Callable[..., str], group_id: str) -> None:
    source = make_topic("orders", partitions=3)
    results = make_topic("revenue", partitions=1)
    events = _order_events(240)
    with Producer(kafka_bootstrap) as producer:
        for i, (t, sku, cents) in enumerate(events):  # keyed by order: every partition carries event time
            producer.send_bytes(source, json.dumps({"t": t, "sku": sku, "cents": cents}).encode(), key=f"o{i}")
    windows = TumblingWindows(10_000)

    job = WindowedJob(source, results, group_id, windows, _extract, grace_ms=5_000,
                      bootstrap=kafka_bootstrap)
    for _ in range(24):  # small steps until some windows were emitted: then crash with others still open
        job.run(max_messages=10, timeout=5)
        if job.aggregator.emitted:
            break
    assert job.aggregator.emitted and job.aggregator.open_totals(), "the crash must land mid-stream, mid-window"
    assert job.records_read < len(events)
    job.crash()

    restarted = WindowedJob(source, results, group_id, windows, _extract, grace_ms=5_000,
                            bootstrap=kafka_bootstrap)
    assert restarted.resumed_from_watermark_ms is not None
    restarted.run(max_messages=10_000, timeout=10)
    restarted.finish()
    restarted.close()
    assert restarted.aggregator.late == 0

    expected = {(w.start_ms, sku): total for (w, sku), total in batch_totals(events, windows).items()}
    assert results_table(results, kafka_bootstrap) == expected
