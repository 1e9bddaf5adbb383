"""Background workers never die silently, and what they pass on is what they got (no services needed)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from course_lib.errors import WorkerFailed
from course_lib.eventstore.sqlite import SQLiteEventStore
from course_lib.messaging.kafka import PartitionLag, Record
from course_lib.messaging.kafka.deadletter import HEADER_NULL_HEADERS, HEADER_NULL_KEY, send_to_dead_letter
from course_lib.messaging.kafka.records import WireRecord
from course_lib.outbox import RecordingPublisher, Relay, RelayWorker, SQLiteOutbox
from course_lib.sagas import Orchestrator, ResumeFailed, SagaDefinition, SQLiteSagaLog, Step, StepContext
from course_lib.shop.events import OrderCreated
from course_lib.shop.services import SimulatedCrash
from course_lib.waiting import wait_until
from course_lib.widgets.partition_view import PartitionBoard

# ---- the outbox relay -------------------------------------------------------------------------------------------


class CrashingPublisher(RecordingPublisher):
    """A publisher whose process dies (``SimulatedCrash`` is a BaseException: no ``except Exception`` stops it)."""

    def publish(self, envelope: Any) -> None:
        raise SimulatedCrash("the relay process was killed")


def test_a_relay_that_dies_says_why_on_stop_and_join(tmp_path: Path) -> None:
    store, outbox = SQLiteEventStore(tmp_path / "shop.db"), SQLiteOutbox(tmp_path / "shop.db")
    store.append("order-1", [OrderCreated(order_id="1", customer_id="c")], in_transaction=outbox.hook)
    worker = RelayWorker(Relay(outbox, CrashingPublisher()), interval=0.01).start()
    try:
        wait_until(lambda: not worker.running, timeout=5, what="the relay thread to die")
        assert isinstance(worker.error, SimulatedCrash)
        with pytest.raises(WorkerFailed, match="the relay process was killed") as stopped:
            worker.stop()
        assert stopped.value.__cause__ is worker.error
        with pytest.raises(WorkerFailed):
            worker.join()
        assert outbox.counts().pending == 1  # nothing was marked sent that was not published
    finally:
        store.close()
        outbox.close()


def test_a_relay_that_keeps_failing_keeps_only_recent_errors(tmp_path: Path) -> None:
    store, outbox = SQLiteEventStore(tmp_path / "shop.db"), SQLiteOutbox(tmp_path / "shop.db")
    store.append("order-1", [OrderCreated(order_id="1", customer_id="c")], in_transaction=outbox.hook)
    publisher = RecordingPublisher()
    publisher.fail_next(1_000)
    worker = RelayWorker(Relay(outbox, publisher), interval=0.0).start()
    try:
        wait_until(lambda: publisher._failures < 1_000 - 200, timeout=10, what="200 failed rounds")
        assert worker.running and len(worker.errors) == 100  # bounded: a long outage does not fill the memory
    finally:
        worker.stop()
        store.close()
        outbox.close()


# ---- the orchestrator -------------------------------------------------------------------------------------------


def _saga(result: Callable[[StepContext], Any], undone: list[str]) -> SagaDefinition:
    return SagaDefinition("odd", (
        Step("first", lambda ctx: {"ok": True}, lambda ctx: undone.append("first")),
        Step("second", result, lambda ctx: undone.append("second")),
    ))


@pytest.fixture
def saga_log(tmp_path: Path) -> Iterator[SQLiteSagaLog]:
    log = SQLiteSagaLog(tmp_path / "saga.db")
    yield log
    log.close()


@pytest.mark.parametrize("returned", ["a string", [("k", object())], {"when": object()}, 42])
def test_a_step_that_returns_what_the_log_cannot_keep_fails_and_compensates(
        saga_log: SQLiteSagaLog, returned: object) -> None:
    undone: list[str] = []
    state = Orchestrator(_saga(lambda ctx: returned, undone), saga_log, sleep=lambda _: None).start("s", {})
    assert state.status == "compensated" and state.failed_step == "second"
    assert state.error is not None and state.error.startswith("StepResultInvalid")
    assert undone == ["first"]


def test_resume_all_resumes_every_saga_it_can_then_names_the_others(saga_log: SQLiteSagaLog) -> None:
    def die_before_second(where: str) -> None:
        if where == "before second":
            raise SimulatedCrash(where)

    for saga_id in ("a", "b"):
        with pytest.raises(SimulatedCrash):
            Orchestrator(_saga(lambda ctx: None, []), saga_log, crash_hook=die_before_second).start(saga_id, {})

    class DamagedLogOfA(Orchestrator):
        def resume(self, saga_id: str) -> Any:
            if saga_id == "a":
                raise RuntimeError("the log of a is damaged")
            return super().resume(saga_id)

    with pytest.raises(ResumeFailed, match="a: RuntimeError: the log of a is damaged") as failed:
        DamagedLogOfA(_saga(lambda ctx: None, []), saga_log).resume_all()
    assert isinstance(failed.value.__cause__, RuntimeError)
    assert Orchestrator(_saga(lambda ctx: None, []), saga_log).state("b").status == "completed"  # not kept waiting


# ---- Kafka records and dead letters ------------------------------------------------------------------------------


class SentRaw:
    """Records what ``send_raw`` was asked to send."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def send_raw(self, topic: str, value: bytes | None, **kwargs: Any) -> None:
        self.sent.append({"topic": topic, "value": value, **kwargs})

    def flush(self) -> None:
        pass


def test_a_dead_letter_sends_the_wire_record_and_names_null_header_values() -> None:
    wire = WireRecord(b"\xff", None, (("a", b"\xfe"), ("a", None), ("b", b"")))
    record = Record("orders", 0, 7, "\ufffd", b"", {"a": "", "b": ""}, 1_000, wire)
    producer = SentRaw()
    send_to_dead_letter(producer, "orders.dlq", record, ValueError("tombstone"))  # type: ignore[arg-type]
    (sent,) = producer.sent
    assert sent["key"] == b"\xff" and sent["value"] is None and sent["timestamp_ms"] == 1_000
    assert sent["headers"][:3] == [("a", b"\xfe"), ("a", b""), ("b", b"")]
    assert dict(sent["headers"][3:])[HEADER_NULL_HEADERS] == b'["a"]'


def test_a_dead_letter_of_a_record_with_neither_key_nor_value_says_the_key_was_null() -> None:
    record = Record("orders", 0, 8, None, b"", {}, 0, WireRecord(None, None, ()))
    producer = SentRaw()
    send_to_dead_letter(producer, "orders.dlq", record, ValueError("empty"))  # type: ignore[arg-type]
    (sent,) = producer.sent
    assert sent["key"] == b"" and sent["value"] is None  # kafka-python refuses to send both null
    assert dict(sent["headers"])[HEADER_NULL_KEY] == b"true"


def test_a_record_built_by_hand_has_a_wire_form() -> None:
    record = Record("orders", 1, 7, "o9", b"{}", {"message_type": "OrderCreated"})
    assert record.original() == WireRecord(b"o9", b"{}", (("message_type", b"OrderCreated"),))


# ---- the partition board -----------------------------------------------------------------------------------------


class DyingWorker:
    def __init__(self, name: str, error: BaseException | None) -> None:
        self.name, self.error, self.stopped = name, error, False

    @property
    def assignment(self) -> list[int]:
        return []

    def stop(self, timeout: float = 10.0) -> None:
        self.stopped = True
        if self.error is not None:
            raise WorkerFailed(self.name, self.error) from self.error

    def pause(self, timeout: float = 10.0) -> None: ...

    def resume(self) -> None: ...


def test_the_partition_board_shows_a_dead_consumer_and_stops_every_consumer_before_raising() -> None:
    workers = iter([DyingWorker("consumer-1", None), DyingWorker("consumer-2", ConnectionError("broker gone"))])
    started: list[DyingWorker] = []

    def start(name: str, handler: Any) -> DyingWorker:
        started.append(next(workers))
        return started[-1]

    board = PartitionBoard("orders", "billing", 2, start_worker=start,
                           lag_source=lambda: {0: PartitionLag(0, 0, 0, 0)})
    board.add_consumer()
    board.add_consumer()
    assert board.failed() == {"consumer-2": "ConnectionError: broker gone"}
    assert "consumer-2 stopped: ConnectionError: broker gone" in board.html()
    with pytest.raises(WorkerFailed):
        board.stop()
    assert all(w.stopped for w in started) and board.workers == []
