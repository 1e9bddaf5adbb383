"""A consumer-group worker in a background thread: poll, process, *then* commit (at-least-once).

- Offsets are committed after the handler returned for every record of a batch, so a crash replays the batch
  instead of losing it (the handler must therefore be idempotent, or write to an idempotent sink).
- A rebalance listener commits what was processed before partitions are taken away, so the next owner does
  not redo it.
- A record whose handler raises goes to the dead-letter topic (when one is configured) with the error in its
  headers, and the worker carries on; without a dead-letter topic the worker stops *before* committing it and
  keeps the error in ``worker.error``, so nothing is skipped silently.
- ``stop()`` commits, leaves the group (a prompt rebalance for the others) and returns within its timeout, or
  raises ``WorkerStuck`` when a handler does not return in time. A worker runs once (``course_lib.messaging.workers``).
- Counters are a ``WorkerStats``, the same type as the RabbitMQ worker's; ``registry`` decodes envelopes (and
  upcasts them) in ``record.envelope()``, like the RabbitMQ worker's.
- Nothing in a record stops the worker (dead letters are the original bytes, see ``deadletter``), nor does an
  exception in its own bookkeeping (a failing ``on_assignment`` callback is noted in ``stats.recent``). If the worker
  stops on its own (no dead-letter topic, or one that refuses the record), ``running`` turns False, the cause is
  kept in ``error``, and ``stop()`` / ``join()`` raise ``WorkerFailed`` with the cause chained.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.subscription_state import ConsumerRebalanceListener
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata

from course_lib.errors import describe_error, raise_if_failed
from course_lib.messages import Registry
from course_lib.messaging.kafka.connection import connect
from course_lib.messaging.kafka.deadletter import send_to_dead_letter
from course_lib.messaging.kafka.producer import Producer
from course_lib.messaging.kafka.records import Record
from course_lib.messaging.kafka.settings import CONSUMER_DEFAULTS, bootstrap_or_default
from course_lib.messaging.workers import WorkerStats, refuse_second_start, stop_thread
from course_lib.waiting import wait_until

Handler = Callable[[Record], Any]


class _CommitBeforeRevoke(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, worker: GroupWorker) -> None:
        self.worker = worker

    def on_partitions_revoked(self, revoked: Any) -> None:
        self.worker._commit(only=set(revoked))
        self.worker._note_assignment()

    def on_partitions_assigned(self, assigned: Any) -> None:
        self.worker._note_assignment()


class GroupWorker:
    """Processes ``topic`` as one member of ``group_id``. ``start()`` it, ``stop()`` it."""

    def __init__(self, topic: str, group_id: str, handler: Handler, *, bootstrap: str | None = None,
                 name: str = "worker", dead_letter_topic: str | None = None, max_poll_records: int = 100,
                 on_assignment: Callable[[GroupWorker, list[int]], None] | None = None,
                 registry: Registry | None = None, **consumer_overrides: Any) -> None:
        self.topic = topic
        self.group_id = group_id
        self.handler = handler
        self.name = name
        self.bootstrap = bootstrap_or_default(bootstrap)
        self.dead_letter_topic = dead_letter_topic
        self.on_assignment = on_assignment
        self.registry = registry  # which message classes (and upcasters) this deployment of the code knows
        self.stats = WorkerStats()
        self.error: BaseException | None = None
        self._config = {**CONSUMER_DEFAULTS, "client_id": name, "max_poll_records": max_poll_records,
                        **consumer_overrides}
        self._pending: dict[TopicPartition, int] = {}
        self._assignment: list[int] = []
        self._consumer: KafkaConsumer | None = None
        self._dlq_producer: Producer | None = None
        self._stop = threading.Event()
        self._pause_wanted = threading.Event()
        self._paused = threading.Event()
        self._thread: threading.Thread | None = None

    # ---- lifecycle -------------------------------------------------------------------------------------------
    def start(self) -> GroupWorker:
        """Connect (in the caller's thread, so a missing broker raises here) and start polling in a thread."""
        refuse_second_start(f"worker {self.name!r}", self._thread)
        self._consumer = connect(lambda: KafkaConsumer(bootstrap_servers=self.bootstrap, group_id=self.group_id,
                                                       **self._config), self.bootstrap)
        self._consumer.subscribe([self.topic], listener=_CommitBeforeRevoke(self))
        if self.dead_letter_topic:
            self._dlq_producer = Producer(self.bootstrap, client_id=f"{self.name}-dlq")
        self._thread = threading.Thread(target=self._run, name=f"kafka-{self.name}", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the current batch, commit it, leave the group and close. Returns within ``timeout``.

        Raises ``WorkerStuck`` if a handler still runs after ``timeout``, ``WorkerFailed`` (cause chained) if the
        worker had already stopped on its own.
        """
        self._stop.set()
        stop_thread(f"worker {self.name!r}", self._thread, timeout, self.error)

    def join(self, timeout: float | None = None) -> None:
        """Wait until the worker thread ends (after ``stop()``, or on its own); ``WorkerFailed`` if it died."""
        if self._thread is not None:
            self._thread.join(timeout)
        raise_if_failed(f"worker {self.name!r}", self.error)

    def pause(self, timeout: float = 10.0) -> None:
        """Stop fetching but stay in the group (heartbeats go on, no rebalance): a slow consumer, lag grows.
        Returns once the worker thread has paused, so records sent afterwards are not processed until resume()."""
        self._pause_wanted.set()
        wait_until(lambda: self._paused.is_set() or not self.running, timeout=timeout, what=f"{self.name} to pause")

    def resume(self) -> None:
        """Fetch again after ``pause()``."""
        self._pause_wanted.clear()

    @property
    def paused(self) -> bool:
        return self._paused.is_set()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def assignment(self) -> list[int]:
        """The partitions this worker owns (as of its last poll)."""
        return list(self._assignment)

    def wait_for_assignment(self, timeout: float = 15.0) -> list[int]:
        """Wait until the group gave this worker at least one partition."""
        def assigned() -> list[int]:
            raise_if_failed(f"worker {self.name!r}", self.error)
            return self.assignment

        return wait_until(assigned, timeout=timeout, what=f"{self.name} to be assigned partitions of {self.topic!r}")

    # ---- the loop ---------------------------------------------------------------------------------------------
    def _run(self) -> None:
        assert self._consumer is not None
        consumer = self._consumer
        try:
            while not self._stop.is_set():
                self._apply_pause(consumer)
                batch = consumer.poll(timeout_ms=100)
                self._note_assignment()
                for tp, raws in batch.items():
                    done = None
                    try:
                        for raw in raws:
                            if self._stop.is_set():
                                break
                            self._process(Record.from_kafka(raw, self.registry))
                            done = raw.offset + 1
                    finally:  # processed (or dead-lettered) up to here: safe to commit, even if a handler raised
                        if done is not None:
                            self._pending[tp] = done
                try:
                    self._commit()
                except KafkaError:  # e.g. a rebalance is under way: keep the offsets and try again next round
                    self.stats.commit_failures += 1
        except BaseException as exc:  # keep the reason for the notebook/test; never die silently
            self.error = exc
            self.stats.recent.append(("stopped", describe_error(exc)))
        finally:
            self._shut_down(consumer)

    def _shut_down(self, consumer: KafkaConsumer) -> None:
        """Commit what was processed, leave the group, close; a failure here is kept, never raised in the thread."""
        try:
            self._commit(timeout_ms=5_000)
        except Exception as exc:  # the group may already have moved on; the next owner replays
            self.error = self.error or exc
        with contextlib.suppress(Exception):  # closing a consumer whose broker is gone: nothing left to save
            consumer.close(autocommit=False, timeout_ms=5_000)
        if self._dlq_producer is not None:
            try:
                self._dlq_producer.close(timeout=5)
            except Exception as exc:  # a dead letter the broker did not take: say so
                self.error = self.error or exc
        self._assignment = []

    def _apply_pause(self, consumer: KafkaConsumer) -> None:
        # kafka-python is not thread-safe: pause/resume happen here, in the worker's own thread.
        if self._pause_wanted.is_set():
            consumer.pause(*consumer.assignment())  # also pauses partitions a rebalance just handed over
            self._paused.set()
        elif self._paused.is_set():
            consumer.resume(*consumer.paused())
            self._paused.clear()

    def _process(self, record: Record) -> None:
        self.stats.received += 1
        try:
            self.handler(record)
        except Exception as exc:
            self.stats.failed += 1
            if self._dlq_producer is None or self.dead_letter_topic is None:
                raise
            send_to_dead_letter(self._dlq_producer, self.dead_letter_topic, record, exc)
            self.stats.dead_lettered += 1
            self.stats.recent.append(("dead-lettered", f"{record.topic}[{record.partition}]@{record.offset}: "
                                                 f"{describe_error(exc)}"))
        else:
            self.stats.processed += 1

    def _commit(self, only: set[TopicPartition] | None = None, timeout_ms: int = 10_000) -> None:
        consumer = self._consumer
        if consumer is None or not self._pending:
            return
        offsets = {tp: OffsetAndMetadata(offset, "", -1) for tp, offset in self._pending.items()
                   if only is None or tp in only}
        if not offsets:
            return
        consumer.commit(offsets, timeout_ms=timeout_ms)  # bounded: a stuck rebalance must not hang stop()
        self.stats.commits += 1
        for tp in offsets:
            self._pending.pop(tp, None)

    def _note_assignment(self) -> None:
        if self._consumer is None:
            return
        current = sorted(tp.partition for tp in self._consumer.assignment())
        if current != self._assignment:
            self._assignment = current
            if self.on_assignment is not None:
                try:
                    self.on_assignment(self, current)
                except Exception as exc:  # a display callback must not stop the worker
                    self.stats.recent.append(("on_assignment failed", describe_error(exc)))
