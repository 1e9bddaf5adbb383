"""Exactly-once *within Kafka*: consume → transform → produce, with the input offsets inside the same transaction.

Either the output records *and* the consumer's new offsets are committed together, or neither is. What that buys,
and what it does not:

- a crash between "produced" and "committed" leaves no duplicate **for ``read_committed`` readers on Apache
  Kafka**: the dead transaction is aborted (when a new producer with the same ``transactional_id`` calls
  ``init_transactions()``, or when the transaction times out) and its records are never shown to them. The
  embedded Tansu broker shows aborted records to ``read_committed`` readers too;
- the batch of a crashed transaction **is processed again** by the next instance: the transform runs twice.
  Anything it does outside Kafka — a database write, an e-mail, a payment call — happens twice, unless that
  effect is idempotent on its own (an idempotency key, an inbox): Kafka transactions cover only reads from and
  writes to Kafka;
- the committed offsets say where the group will resume, not how many times each input was processed.

A *zombie* is an old instance that still runs after its replacement started (a long GC pause, a network
partition). Both use the same ``transactional_id``; when the new one calls ``init_transactions()`` the broker
bumps the epoch and rejects the old one's next transactional call with ``ProducerFencedError``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError, ProducerFencedError
from kafka.structs import OffsetAndMetadata

from course_lib.errors import CourseError
from course_lib.messages import Registry
from course_lib.messaging.kafka.connection import connect
from course_lib.messaging.kafka.consumer import _poll_bounded
from course_lib.messaging.kafka.errors import TopicNotFound
from course_lib.messaging.kafka.producer import Producer
from course_lib.messaging.kafka.records import Record
from course_lib.messaging.kafka.settings import CONSUMER_DEFAULTS, bootstrap_or_default


class ProducerFenced(CourseError):
    """This producer was replaced by a newer one with the same transactional id; it must stop."""


@dataclass(frozen=True)
class Output:
    """One record to produce: topic, key and value."""

    topic: str
    key: str | None
    value: bytes


Transform = Callable[[Record], Iterable[Output]]


def _is_fenced(exc: BaseException) -> bool:
    return isinstance(exc, ProducerFencedError) or "ProducerFenced" in str(exc)


class TransactionalProducer(Producer):
    """A producer with a ``transactional_id``; ``init_transactions()`` runs on construction (fencing older ones)."""

    def __init__(self, transactional_id: str, bootstrap: str | None = None, **overrides: object) -> None:
        super().__init__(bootstrap, transactional_id=transactional_id, client_id=f"txn-{transactional_id}",
                         **overrides)
        self.transactional_id = transactional_id
        self.raw.init_transactions()

    def run_transaction(self, outputs: Iterable[Output], offsets: dict[TopicPartition, int] | None = None,
                        group_id: str | None = None, *, before_commit: Callable[[], None] | None = None) -> int:
        """Produce ``outputs`` (and commit ``offsets`` for ``group_id``) atomically. Returns how many records.

        ``before_commit`` runs once the outputs are on the broker and the offsets are in the transaction, just
        before the commit — the moment a crash demo kills the process at. Raises ``ProducerFenced`` when a newer
        producer took over the transactional id.
        """
        count = 0
        try:
            self.raw.begin_transaction()
            for out in outputs:
                self.send_bytes(out.topic, out.value, key=out.key)
                count += 1
            if offsets:
                if group_id is None:
                    raise CourseError("offsets given without group_id: pass the consumer group that owns them")
                self.raw.send_offsets_to_transaction(
                    {tp: OffsetAndMetadata(off, "", -1) for tp, off in offsets.items()}, group_id)
            if before_commit is not None:
                self.raw.flush()
                before_commit()
            self.raw.commit_transaction()
        except KafkaError as exc:
            if _is_fenced(exc):
                raise ProducerFenced(
                    f"producer {self.transactional_id!r} was fenced: a newer instance with the same transactional "
                    f"id called init_transactions(). Stop this instance; its transaction was not committed."
                ) from exc
            raise
        return count

    def abort(self) -> None:
        """Abort the open transaction (its records are never shown to ``read_committed`` consumers on Kafka)."""
        self.raw.abort_transaction()

    def close(self, timeout: float = 5.0) -> None:
        # a fenced producer cannot flush; there is nothing left to deliver
        with contextlib.suppress(KafkaError):
            self.raw.close(timeout=timeout)


class ExactlyOnceProcessor:
    """Reads ``source`` as group ``group_id`` (all partitions, no join) and writes ``transform``'s outputs in
    transactions that also commit the input offsets. ``registry`` decodes the input records' envelopes."""

    def __init__(self, source: str, group_id: str, transform: Transform, *, transactional_id: str,
                 bootstrap: str | None = None, registry: Registry | None = None) -> None:
        self.source = source
        self.registry = registry
        self.group_id = group_id
        self.transform = transform
        self.bootstrap = bootstrap_or_default(bootstrap)
        self.producer = TransactionalProducer(transactional_id, self.bootstrap)
        config = {**CONSUMER_DEFAULTS, "isolation_level": "read_committed"}
        self._consumer: KafkaConsumer = connect(
            lambda: KafkaConsumer(bootstrap_servers=self.bootstrap, group_id=group_id, **config), self.bootstrap)
        partitions = self._consumer.partitions_for_topic(source) or set()
        if not partitions:
            self._consumer.close(autocommit=False)
            self.producer.close()
            raise TopicNotFound(source)
        self._partitions = [TopicPartition(source, p) for p in sorted(partitions)]
        self._consumer.assign(self._partitions)
        self.transactions = 0
        self.processed = 0

    def process(self, max_messages: int = 100, timeout: float = 5.0, *, crash_before_commit: bool = False,
                before_commit: Callable[[], None] | None = None) -> int:
        """Process one batch in one transaction; returns how many input records it committed.

        ``crash_before_commit`` aborts instead (an in-process stand-in for a crash) and rewinds to the last
        committed offsets: the batch will be transformed again. For a real crash, kill the process in
        ``before_commit`` (see ``course_lib.labs.kafka_crashes``)."""
        records = _poll_bounded(self._consumer, max_messages, timeout, stop_when_idle=True, reg=self.registry)
        if not records:
            return 0
        outputs = [out for record in records for out in self.transform(record)]
        offsets: dict[TopicPartition, int] = {}
        for record in records:
            offsets[TopicPartition(record.topic, record.partition)] = record.offset + 1
        if crash_before_commit:
            self.producer.raw.begin_transaction()
            for out in outputs:
                self.producer.send_bytes(out.topic, out.value, key=out.key)
            self.producer.raw.flush()
            self.producer.abort()
            self._rewind()
            return 0
        self.producer.run_transaction(outputs, offsets, self.group_id, before_commit=before_commit)
        self.transactions += 1
        self.processed += len(records)
        return len(records)

    def _rewind(self) -> None:
        for tp in self._partitions:
            committed = self._consumer.committed(tp)
            self._consumer.seek(tp, committed if committed is not None else 0)

    def close(self) -> None:
        self._consumer.close(autocommit=False)
        self.producer.close()
