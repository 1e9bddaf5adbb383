"""A producer of keyed JSON envelopes: idempotent, ``acks=all``, typed headers, delivery errors that surface."""

from __future__ import annotations

import threading
from functools import partial
from types import TracebackType
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaTimeoutError
from kafka.producer.future import FutureRecordMetadata

from course_lib.messages import Envelope, to_bytes
from course_lib.messaging.headers import trace_headers
from course_lib.messaging.kafka.connection import connect
from course_lib.messaging.kafka.errors import DeliveryFailed, FailedRecord
from course_lib.messaging.kafka.records import HEADER_CORRELATION_ID, HEADER_MESSAGE_ID, HEADER_TYPE, encode_headers
from course_lib.messaging.kafka.settings import PRODUCER_DEFAULTS, bootstrap_or_default


def envelope_headers(env: Envelope[Any]) -> dict[str, str]:
    """The headers a consumer can route or trace on without parsing the value: type, ids, causation and schema
    version (the last two under the same names as on RabbitMQ)."""
    meta = env.metadata
    headers = {HEADER_TYPE: meta.type, HEADER_MESSAGE_ID: str(meta.message_id),
               HEADER_CORRELATION_ID: str(meta.correlation_id)}
    return headers | {name: str(value) for name, value in trace_headers(env).items()}


class Producer:
    """Sends records and remembers every failed delivery, so ``flush()``/``close()`` can raise instead of losing them.

    ``send`` is asynchronous (batched, fast); ``flush`` waits for all sends and raises ``DeliveryFailed`` if any
    failed. Pass ``transactional_id`` for transactions (see ``course_lib.messaging.kafka.transactions``).
    """

    def __init__(self, bootstrap: str | None = None, *, transactional_id: str | None = None,
                 client_id: str = "course-producer", **overrides: Any) -> None:
        self.bootstrap = bootstrap_or_default(bootstrap)
        config: dict[str, Any] = {**PRODUCER_DEFAULTS, "client_id": client_id, **overrides}
        if transactional_id is not None:
            config["transactional_id"] = transactional_id
        self._producer: KafkaProducer = connect(
            lambda: KafkaProducer(bootstrap_servers=self.bootstrap, **config), self.bootstrap)
        self._failures: list[FailedRecord] = []
        self._failures_lock = threading.Lock()  # errbacks run on the sender thread
        self.sent = 0

    @property
    def raw(self) -> KafkaProducer:
        """The underlying kafka-python producer (for transactions and metrics)."""
        return self._producer

    def send(self, topic: str, env: Envelope[Any], *, key: str | None = None,
             partition: int | None = None) -> FutureRecordMetadata:
        """Send an envelope as JSON. The key defaults to the envelope's stream id (same stream → same partition)."""
        key = key if key is not None else env.metadata.stream_id
        return self.send_bytes(topic, to_bytes(env), key=key, headers=envelope_headers(env), partition=partition)

    def send_bytes(self, topic: str, value: bytes, *, key: str | bytes | None = None,
                   headers: dict[str, str] | None = None, partition: int | None = None) -> FutureRecordMetadata:
        """Send raw bytes (for records that are not envelopes, e.g. benchmarks)."""
        key_bytes = key.encode() if isinstance(key, str) else key
        return self.send_raw(topic, value, key=key_bytes, headers=encode_headers(headers) if headers else None,
                             partition=partition)

    def send_raw(self, topic: str, value: bytes | None, *, key: bytes | None = None,
                 headers: list[tuple[str, bytes]] | None = None, partition: int | None = None,
                 timestamp_ms: int | None = None) -> FutureRecordMetadata:
        """Send key, value and headers exactly as given (``None`` value: a tombstone), e.g. a dead letter."""
        future = self._producer.send(topic, value=value, key=key, headers=headers, partition=partition,
                                     timestamp_ms=timestamp_ms)
        future.add_errback(partial(self._failed, topic, key))
        self.sent += 1
        return future

    def _failed(self, topic: str, key: bytes | None, error: BaseException) -> None:
        with self._failures_lock:
            self._failures.append(FailedRecord(topic, key, error))

    def flush(self, timeout: float = 30.0) -> None:
        """Wait until every record sent so far is acknowledged; raise ``DeliveryFailed`` if any was not.

        Each record has its own delivery report, and they can complete in any order (records for different
        partitions go to different brokers): ``flush`` waits for all of them, not for the last one sent.
        """
        try:
            self._producer.flush(timeout=timeout)
        except KafkaTimeoutError as exc:
            raise DeliveryFailed(
                [FailedRecord("", None, exc)],
                f"records sent to {self.bootstrap} were not acknowledged within {timeout:.0f}s; their fate is unknown "
                "(some may be written). Check that the broker is up and the topics exist, then send them again; "
                "an idempotent consumer absorbs the ones that were written twice.") from exc
        with self._failures_lock:
            failures, self._failures = self._failures, []
        if failures:
            raise DeliveryFailed(failures)

    def close(self, timeout: float = 30.0) -> None:
        """Flush (raising on failures), then close the connection."""
        try:
            self.flush(timeout)
        finally:
            self._producer.close(timeout=timeout)

    def __enter__(self) -> Producer:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
