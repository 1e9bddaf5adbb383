"""Live workloads for the performance lab: the same operations the course teaches, sized by the caller.

Each method of ``PerfLab`` returns a ``Work`` (a callable returning how many items it handled) so that
``side_by_side`` can warm it up, repeat it and interleave it with the case it is compared to. The lab owns
everything it creates (a temporary directory, one RabbitMQ queue, Kafka topics) and ``close()`` removes it all.
"""

from __future__ import annotations

import atexit
import contextlib
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import pika

from course_lib.clock import FixedStepClock, SequentialIds
from course_lib.config import get_settings
from course_lib.eventstore.sqlite import SQLiteEventStore
from course_lib.perf.timing import Run, Work
from course_lib.shop.events import OrderCreated, OrderItemAdded, OrderSubmitted

if TYPE_CHECKING:
    from course_lib.messaging.rabbitmq import RabbitConnection

PublishMode = Literal["no confirms", "confirm each", "confirm batch"]
PUBLISH_MODES: tuple[PublishMode, ...] = ("no confirms", "confirm each", "confirm batch")
PAYLOAD = b"x" * 200
EVENTS_PER_ORDER = 5  # created, three items, submitted


def build_order_log(path: Path, n_events: int) -> SQLiteEventStore:
    """A SQLite event store holding ``n_events`` shop events (``n_events`` is rounded down to whole orders)."""
    store = SQLiteEventStore(path, synchronous="OFF", clock=FixedStepClock(), ids=SequentialIds())
    for o in range(n_events // EVENTS_PER_ORDER):
        oid = f"o{o}"
        store.append(f"order-{oid}", [
            OrderCreated(order_id=oid, customer_id=f"c{o % 97}"),
            *(OrderItemAdded(order_id=oid, sku=f"sku{k}", quantity=k + 1, unit_price_cents=250) for k in range(3)),
            OrderSubmitted(order_id=oid, total_cents=1500),
        ])
    return store


class PerfLab:
    """Resources for live measurements; call ``close()`` (or use ``with``) to delete what it created.

    Using the lab after ``close()`` creates what it needs again (a widget may outlive the notebook's last cell);
    whatever is open when the process exits is removed then.
    """

    def __init__(self, *, rabbitmq_url: str | None = None, kafka_bootstrap: str | None = None) -> None:
        settings = get_settings()
        self.rabbitmq_url = rabbitmq_url or settings.rabbitmq_url
        self.kafka_bootstrap = kafka_bootstrap or settings.kafka_bootstrap_servers
        self.tag = uuid.uuid4().hex[:8]
        # Not the system temp folder: on many Linux distributions /tmp is tmpfs, where fsync costs nothing and the
        # durability measurements would show no difference. The state folder is on the disk the course writes to.
        self._parent = settings.state_dir / "perf"
        self._dir: Path | None = None
        self._closers: list[Callable[[], None]] = []
        self._rabbit: RabbitConnection | None = None
        self._queue: str | None = None
        self._topics: list[str] = []
        self._logs: dict[int, SQLiteEventStore] = {}

    @property
    def dir(self) -> Path:
        """The lab's temporary directory under the state folder (created on first use, again after ``close()``)."""
        if self._dir is None or not self._dir.exists():
            self._parent.mkdir(parents=True, exist_ok=True)
            self._dir = Path(tempfile.mkdtemp(prefix=f"nb13-perf-{self.tag}-", dir=self._parent))
            atexit.register(self.close)  # a kernel shut down without close() still cleans up; close() is idempotent
        return self._dir

    # ----------------------------------------------------------------------------------------- event store

    def eventstore_append(self, n_events: int, *, per_transaction: int, synchronous: str = "FULL") -> Work:
        """Append ``n_events`` to a fresh SQLite store, ``per_transaction`` events per ``append`` call."""
        if per_transaction < 1:
            raise ValueError("per_transaction must be at least 1")
        store = SQLiteEventStore(self.dir / f"append-{uuid.uuid4().hex[:8]}.db", synchronous=synchronous)  # type: ignore[arg-type]
        self._closers.append(store.close)

        def work() -> int:
            stream = f"order-{uuid.uuid4().hex[:12]}"
            done = 0
            while done < n_events:
                size = min(per_transaction, n_events - done)
                store.append(stream, [OrderItemAdded(order_id=stream, sku=f"sku{done + k}", quantity=1,
                                                     unit_price_cents=100) for k in range(size)])
                done += size
            return done

        return work

    # ------------------------------------------------------------------------------------------- RabbitMQ

    def _rabbit_queue(self) -> tuple[RabbitConnection, str]:
        from course_lib.messaging.rabbitmq import Queue, RabbitConnection, Topology, declare, delete_topology

        if self._rabbit is None or self._queue is None:
            conn = RabbitConnection(self.rabbitmq_url, name="perf-lab")
            topology = Topology(queues=[Queue(f"nb13-perf-{self.tag}")])  # classic, durable (RabbitMQ 4 needs it)
            declare(conn, topology)
            self._rabbit, self._queue = conn, topology.queues[0].name

            def cleanup() -> None:
                delete_topology(conn, topology)
                conn.close()

            self._closers.append(cleanup)
            self._closers.append(self._forget_rabbit)
        return self._rabbit, self._queue

    def _forget_rabbit(self) -> None:
        self._rabbit = self._queue = None

    def purge(self) -> None:
        """Empty the lab's queue."""
        conn, queue = self._rabbit_queue()
        channel = conn.channel()
        channel.queue_purge(queue)
        channel.close()

    def queue_depth(self) -> int:
        """Messages ready in the lab's queue now (exact: a passive declare)."""
        from course_lib.messaging.rabbitmq import passive_depth

        conn, queue = self._rabbit_queue()
        return passive_depth(conn, queue).ready

    def rabbit_publish(self, n_messages: int, mode: PublishMode, *, batch: int = 100) -> Work:
        """Publish ``n_messages`` persistent 200-byte messages: without confirms, confirming each, or per batch.

        Only the publishing is timed; the queue is emptied after each run, untimed.
        """
        from course_lib.messaging.rabbitmq import Publisher

        if mode not in PUBLISH_MODES:
            raise ValueError(f"mode {mode!r} is not one of {PUBLISH_MODES}")
        conn, queue = self._rabbit_queue()
        publisher = Publisher(conn, confirms=mode != "no confirms")
        self._closers.append(publisher.close)
        props = pika.BasicProperties(delivery_mode=pika.DeliveryMode.Persistent.value)

        def work() -> Run:
            start = time.perf_counter()
            if mode == "confirm batch":
                for first in range(0, n_messages, batch):
                    publisher.publish_bodies([(PAYLOAD, queue, props)] * min(batch, n_messages - first))
            else:
                for _ in range(n_messages):
                    publisher.publish_body(PAYLOAD, queue, props)
            elapsed = time.perf_counter() - start
            self.purge()
            return Run(n_messages, elapsed)

        return work

    def fill_queue(self, n_messages: int) -> int:
        """Put exactly ``n_messages`` in the lab's (emptied) queue, confirmed; returns the queue depth."""
        from course_lib.messaging.rabbitmq import Publisher

        conn, queue = self._rabbit_queue()
        self.purge()
        publisher = Publisher(conn)
        props = pika.BasicProperties(delivery_mode=pika.DeliveryMode.Persistent.value)
        for first in range(0, n_messages, 500):
            publisher.publish_bodies([(PAYLOAD, queue, props)] * min(500, n_messages - first))
        publisher.close()
        return self.queue_depth()

    def rabbit_consume(self, n_messages: int, *, prefetch: int) -> Work:
        """Consume and ack ``n_messages`` with ``prefetch`` unacked messages in flight; the queue is refilled
        before each run, untimed."""
        from course_lib.messaging.rabbitmq import consume

        conn, queue = self._rabbit_queue()

        def work() -> Run:
            self.fill_queue(n_messages)
            start = time.perf_counter()
            got = consume(conn, queue, max_messages=n_messages, prefetch=prefetch, timeout=60,
                          decode_envelopes=False)
            return Run(len(got), time.perf_counter() - start)

        return work

    # ---------------------------------------------------------------------------------------------- Kafka

    def kafka_topic(self, partitions: int = 1) -> str:
        """A fresh topic, deleted by ``close()``."""
        from course_lib.messaging.kafka import Topics

        name = f"nb13-perf-{self.tag}-{len(self._topics)}"
        with Topics(self.kafka_bootstrap) as topics:
            topics.create(name, partitions)
        self._topics.append(name)
        return name

    def kafka_produce(self, n_records: int, *, linger_ms: int, batch_size: int = 16_384) -> Work:
        """Send ``n_records`` 200-byte records and flush; ``linger_ms``/``batch_size`` shape the producer batches."""
        from course_lib.messaging.kafka import Producer

        topic = self.kafka_topic(3)
        producer = Producer(self.kafka_bootstrap, linger_ms=linger_ms, batch_size=batch_size)
        self._closers.append(producer.close)

        def work() -> int:
            for i in range(n_records):
                producer.send_bytes(topic, PAYLOAD, key=f"k{i % 100}")
            producer.flush()
            return n_records

        return work

    def kafka_round_trips(self, n_records: int, *, linger_ms: int, timeout: float = 10.0) -> list[float]:
        """Latency of ``n_records`` produce→consume round trips, one record at a time, in seconds.

        The consumer is already attached (no group join), so each sample is: send, broker append, fetch, decode.
        """
        from course_lib.messaging.kafka import Producer, TopicReader

        topic = self.kafka_topic(1)
        latencies: list[float] = []
        with Producer(self.kafka_bootstrap, linger_ms=linger_ms) as producer, \
                TopicReader(topic, self.kafka_bootstrap, fetch_max_wait_ms=10) as reader:
            for i in range(n_records):
                start = time.perf_counter()
                producer.send_bytes(topic, str(i).encode())
                records = reader.read(max_messages=1, timeout=timeout)
                if not records or records[0].value != str(i).encode():
                    raise RuntimeError(f"round trip {i} on {topic!r} did not come back within {timeout} s; "
                                       "is the Kafka broker running? (python -m course_lib services start)")
                latencies.append(time.perf_counter() - start)
        return latencies

    # ---------------------------------------------------------------------------------------- projections

    def order_log(self, n_events: int) -> SQLiteEventStore:
        """A store with ``n_events`` shop events, built once per size and reused."""
        if n_events not in self._logs:
            store = build_order_log(self.dir / f"log-{n_events}.db", n_events)
            self._logs[n_events] = store
            self._closers.append(store.close)
        return self._logs[n_events]

    def projection_rebuild(self, n_events: int, *, batch_size: int, synchronous: str = "FULL") -> Work:
        """Rebuild ``OrderSummaries`` from a log of ``n_events``, ``batch_size`` events per read-model transaction."""
        from course_lib.projections import Projector, SQLiteReadModels
        from course_lib.shop.projections import OrderSummaries

        store = self.order_log(n_events)

        def work() -> int:
            read_models = SQLiteReadModels(self.dir / f"read-{uuid.uuid4().hex[:8]}.db", synchronous=synchronous)
            try:
                projector = Projector(store, read_models, OrderSummaries(), page_size=2000, batch_size=batch_size)
                return projector.rebuild(progress=False)
            finally:
                read_models.close()

        return work

    # -------------------------------------------------------------------------------------------- cleanup

    def close(self) -> None:
        """Close connections and delete the queue, the topics and the temporary files."""
        for closer in reversed(self._closers):
            with contextlib.suppress(Exception):  # best effort: one failure must not keep the rest alive
                closer()
        self._closers.clear()
        if self._topics:
            from course_lib.messaging.kafka import Topics

            try:
                with Topics(self.kafka_bootstrap) as topics:
                    topics.delete(*self._topics)
            except Exception:  # the broker may be the thing a lesson just broke
                pass
            self._topics.clear()
        self._logs.clear()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> PerfLab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ----------------------------------------------------------------------- memory targets (course_lib.perf.memory)

def _lab_for_this_process() -> PerfLab:
    return PerfLab()  # removed at process exit (see PerfLab.dir)


def prepare_projection_rebuild(n_events: int, batch_size: int = 1000, page_size: int = 2000) -> Callable[[], int]:
    """Build a log of ``n_events`` (untimed, untraced); return the rebuild of ``OrderSummaries`` from it.

    Memory must not grow with ``n_events``: the projector reads ``page_size`` events at a time and commits every
    ``batch_size``; the read model lives on disk.
    """
    from course_lib.projections import Projector, SQLiteReadModels
    from course_lib.shop.projections import OrderSummaries

    lab = _lab_for_this_process()
    store = lab.order_log(n_events)

    def work() -> int:
        read_models = SQLiteReadModels(lab.dir / "read.db", synchronous="NORMAL")
        try:
            projector = Projector(store, read_models, OrderSummaries(), page_size=page_size, batch_size=batch_size)
            applied = projector.rebuild(progress=False)
        finally:
            read_models.close()
        if applied != n_events:
            raise RuntimeError(f"rebuild applied {applied} of {n_events} events")
        return applied

    return work


def prepare_kafka_consume(n_records: int, max_poll_records: int = 500,
                          max_partition_fetch_bytes: int = 1_048_576) -> Callable[[], int]:
    """Produce ``n_records`` (untraced); return a consume of all of them by a ``GroupWorker`` (join included).

    The consumer buffers at most about ``max_partition_fetch_bytes`` per partition (kafka-python's default is
    1 MiB), so memory grows with the topic until the backlog exceeds that fetch window, then stays flat.
    """
    from course_lib.messaging.kafka import GroupWorker
    from course_lib.waiting import wait_until

    lab = _lab_for_this_process()
    produce = lab.kafka_produce(n_records, linger_ms=5, batch_size=65_536)
    produce()
    topic = lab._topics[-1]

    def work() -> int:
        seen = [0]

        def handle(_record: object) -> None:
            seen[0] += 1  # keep nothing: memory may only hold the batch in flight

        worker = GroupWorker(topic, f"nb13-perf-{lab.tag}", handle, bootstrap=lab.kafka_bootstrap,
                             max_poll_records=max_poll_records, max_partition_fetch_bytes=max_partition_fetch_bytes)
        worker.start()
        try:
            wait_until(lambda: seen[0] >= n_records or worker.error is not None, timeout=300,
                       what=f"the worker to consume {n_records} records from {topic!r}")
        finally:
            worker.stop()
        if worker.error is not None:
            raise worker.error
        return seen[0]

    return work
