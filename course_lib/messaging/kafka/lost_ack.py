"""A producer retry after a lost acknowledgement, reproduced on the wire — to see what idempotence removes.

A producer sends a batch; the broker appends it, but the acknowledgement never arrives (a dropped connection, a
timeout). The producer cannot tell "not written" from "written, answer lost", so it sends the *same batch* again.
Without idempotence the partition now holds the record twice. With it, the batch carries the producer id, its
epoch and a sequence number per partition; the broker remembers the last batches of each producer per partition
and answers a repeat with "already have it" instead of appending it again.

kafka-python gives no way to drop an acknowledgement, so this module speaks the protocol itself over one
socket: ``InitProducerId`` (a producer session: id + epoch), a record batch built once, and the identical
``Produce`` request sent twice, exactly as a retry does. What deduplication does *not* cover is visible too:
a new session (a restarted producer) gets a new producer id, so the same record sent again is a new record;
and sequence numbers are per partition.
"""

from __future__ import annotations

import itertools
import socket
import struct
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import kafka.errors
from kafka.protocol.producer.produce import ProduceRequest, ProduceResponse
from kafka.protocol.producer.transaction import InitProducerIdRequest, InitProducerIdResponse
from kafka.record.memory_records import MemoryRecordsBuilder

from course_lib.errors import CourseError, ServiceUnavailable
from course_lib.kafka_probe import api_versions
from course_lib.messaging.kafka.settings import bootstrap_or_default

_PRODUCE, _INIT_PRODUCER_ID = 0, 22
_MAX_PRODUCE, _MAX_INIT = 8, 4  # versions both Apache Kafka 3.x and Tansu answer correctly


@dataclass(frozen=True)
class ProducerSession:
    """What ``InitProducerId`` hands out: the broker deduplicates per (producer id, epoch, partition)."""

    producer_id: int
    epoch: int


@dataclass(frozen=True)
class SendAttempt:
    """The broker's answer to one Produce request for one partition."""

    error: str  # "NoError", or the Kafka error name (e.g. "DuplicateSequenceNumberError")
    base_offset: int  # where the batch was appended (-1 when it was not)


def record_batch(key: bytes, value: bytes, session: ProducerSession | None, sequence: int = 0) -> bytes:
    """One record in a v2 batch; with a ``session`` it carries the producer id, epoch and ``sequence``."""
    builder = MemoryRecordsBuilder(
        magic=2, compression_type=0, batch_size=1 << 16,
        producer_id=session.producer_id if session else -1, producer_epoch=session.epoch if session else -1,
        base_sequence=sequence if session else -1)
    builder.append(timestamp=int(time.time() * 1000), key=key, value=value, headers=[])
    builder.close()
    return bytes(builder.buffer())


class WireProducer:
    """A minimal producer on one socket to the bootstrap broker (which must lead the partitions it writes to —
    true on the course's single-broker setups). Every call answers within ``timeout_s``."""

    def __init__(self, bootstrap: str | None = None, *, timeout_s: float = 5.0) -> None:
        self.bootstrap = bootstrap_or_default(bootstrap)
        host, _, port = self.bootstrap.split(",")[0].strip().rpartition(":")
        versions = api_versions(host, int(port), timeout_s)
        if versions is None:
            raise ServiceUnavailable("Kafka", self.bootstrap, "no Kafka broker answered",
                                     "start one: `python -m course_lib services start`")
        self._produce_version = min(versions.get(_PRODUCE, (0, -1))[1], _MAX_PRODUCE)
        self._init_version = min(versions.get(_INIT_PRODUCER_ID, (0, -1))[1], _MAX_INIT)
        if self._produce_version < 3 or self._init_version < 0:
            raise CourseError(f"the broker at {self.bootstrap} is too old for idempotent producers "
                              "(it needs Produce v3 and InitProducerId): use Kafka 0.11 or newer")
        self._sock = socket.create_connection((host, int(port)), timeout=timeout_s)
        self._sock.settimeout(timeout_s)
        self._ids = itertools.count(1)

    def new_session(self) -> ProducerSession:
        """Ask the broker for a producer id and epoch, as a producer with ``enable_idempotence`` does at start."""
        request = InitProducerIdRequest(transactional_id=None, transaction_timeout_ms=60_000)
        answer = self._call(request, InitProducerIdResponse, self._init_version)
        if answer.error_code != 0:
            raise CourseError(f"InitProducerId failed: {kafka.errors.for_code(answer.error_code).__name__}")
        return ProducerSession(answer.producer_id, answer.producer_epoch)

    def send(self, topic: str, partition: int, batch: bytes) -> SendAttempt:
        """Send one batch with ``acks=all`` and return the broker's answer for it."""
        topic_data = ProduceRequest.TopicProduceData
        request = ProduceRequest(transactional_id=None, acks=-1, timeout_ms=5_000, topic_data=[
            topic_data(name=topic, partition_data=[topic_data.PartitionProduceData(index=partition, records=batch)])])
        answer = self._call(request, ProduceResponse, self._produce_version)
        result = answer.responses[0].partition_responses[0]
        error = kafka.errors.for_code(result.error_code).__name__
        if error in ("NotLeaderForPartitionError", "NotLeaderOrFollowerError"):
            raise CourseError(f"the broker at {self.bootstrap} does not lead {topic}[{partition}]: this demo "
                              "talks to one broker only, as on the course's single-broker setups")
        return SendAttempt(error, int(result.base_offset))

    def _call(self, request: Any, response_type: Any, version: int) -> Any:
        correlation_id = next(self._ids)
        request.with_header(correlation_id=correlation_id, client_id="course-lost-ack")
        self._sock.sendall(request.encode(version=version, header=True, framed=True))
        (size,) = struct.unpack(">i", self._recv(4))
        answer = response_type.decode(self._recv(size), version=version, header=True)
        if answer.header.correlation_id != correlation_id:
            raise CourseError(f"out-of-order answer from {self.bootstrap}: expected correlation id {correlation_id}")
        return answer

    def _recv(self, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = self._sock.recv(size - len(data))
            if not chunk:
                raise ConnectionError(f"{self.bootstrap} closed the connection mid-answer")
            data += chunk
        return data

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> WireProducer:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def send_then_retry(producer: WireProducer, topic: str, value: bytes, *, session: ProducerSession | None,
                    partition: int = 0, key: bytes = b"o1") -> tuple[SendAttempt, SendAttempt]:
    """Send a batch, then the identical batch again — the retry after a lost acknowledgement."""
    batch = record_batch(key, value, session)
    return producer.send(topic, partition, batch), producer.send(topic, partition, batch)
