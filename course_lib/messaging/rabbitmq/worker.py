"""A background consumer: prefetch, ack after the handler succeeded, retries, dead-lettering, prompt ``stop()``.

pika connections are not thread-safe, and a handler that blocks the connection's thread also blocks its
heartbeats (the broker then drops the connection). So the worker keeps one thread for I/O and runs handlers on a
small pool; when a handler finishes, the ack (or the retry) is handed back to the I/O thread with
``add_callback_threadsafe`` — the one pika call that is safe from another thread.

What happens to a message:
- handler returned → ack;
- handler raised → republished to the next delay queue (``RetryPolicy``) and acked; after the last attempt, to
  ``<queue>.dlq`` with the error in its headers;
- body is not a valid envelope (not JSON, unknown type, failing validation) → straight to ``<queue>.dlq``;
- the worker dies before acking → the broker redelivers it (``redelivered=True``) to another consumer.

Moving a message (to a delay queue or the dead-letter queue) is publish-with-confirm, then ack: nothing is lost,
but it is at-least-once. A crash after the confirm and before the ack leaves the message in both queues, so it
is handled (or parked) twice — notebook 06's failure panel allows for it; handlers must tolerate a repeat.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pika
import pika.exceptions
from pika.adapters.blocking_connection import BlockingChannel

from course_lib.errors import CourseError
from course_lib.messages import Registry
from course_lib.messages import registry as default_registry
from course_lib.messaging.rabbitmq.connection import connect
from course_lib.messaging.rabbitmq.retry import RetryPolicy, attempt_number, dead_letter_queue, failure_headers
from course_lib.messaging.rabbitmq.wire import Delivery, decode

Handler = Callable[[Delivery], object]


@dataclass
class WorkerStats:
    """Counts of what the worker did; read them from any thread."""

    received: int = 0
    processed: int = 0
    failed: int = 0
    retried: int = 0
    dead_lettered: int = 0
    malformed: int = 0
    redelivered: int = 0
    recent: deque[tuple[str, str]] = field(default_factory=lambda: deque(maxlen=50))

    def as_dict(self) -> dict[str, int]:
        """The counters (without the recent-events log)."""
        return {k: v for k, v in self.__dict__.items() if isinstance(v, int)}


class Worker:
    """Consume ``queue`` in the background until ``stop()``. ``start()`` returns once it is consuming."""

    def __init__(
        self,
        queue: str,
        handler: Handler,
        *,
        url: str | None = None,
        prefetch: int = 10,
        retry: RetryPolicy | None = None,
        dead_letter: bool = True,
        requeue_on_failure: bool = False,
        threads: int = 1,
        name: str | None = None,
        registry: Registry = default_registry,
    ) -> None:
        if prefetch < 0:
            raise ValueError("prefetch must be >= 0 (0 means unlimited)")
        self.queue = queue
        self.handler = handler
        self.url = url
        self.prefetch = prefetch
        self.retry = retry
        self.dead_letter = dead_letter
        self.requeue_on_failure = requeue_on_failure
        self.name = name or f"worker-{queue}"
        self.registry = registry  # which message classes (and upcasters) this deployment of the code knows
        self.stats = WorkerStats()
        self._threads = threads
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._kill = threading.Event()
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._connection: pika.BlockingConnection | None = None
        self._publish_channel: BlockingChannel | None = None
        self._channel: BlockingChannel | None = None

    # ---- lifecycle -------------------------------------------------------------------------------------------
    def start(self, timeout: float = 10.0) -> Worker:
        """Connect and start consuming; raise the connection error (e.g. ``ServiceUnavailable``) if it failed."""
        if self.running:
            return self
        self._stop.clear()
        self._kill.clear()
        self._ready.clear()
        self._error = None
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            self.stop()
            raise CourseError(f"{self.name} did not start consuming {self.queue!r} within {timeout:.0f}s")
        if self._error is not None:
            raise self._error
        return self

    @property
    def running(self) -> bool:
        """True while the consumer thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop consuming and close the connection; unacked messages go back to the queue. Returns promptly."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def kill(self, timeout: float = 5.0) -> None:
        """Drop the TCP connection without a goodbye, like a crashed process: unacked messages are redelivered."""
        self._kill.set()
        self.stop(timeout)

    def __enter__(self) -> Worker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- the I/O thread --------------------------------------------------------------------------------------
    def _run(self) -> None:
        pool = ThreadPoolExecutor(max_workers=self._threads, thread_name_prefix=f"{self.name}-handler")
        try:
            connection = connect(self.url, name=self.name)
        except BaseException as exc:  # reported by start()
            self._error = exc
            self._ready.set()
            return
        self._connection = connection
        try:
            if self.dead_letter:
                self._require_queue(connection, dead_letter_queue(self.queue))
            for step in range(len(self.retry.delays) if self.retry else 0):
                assert self.retry is not None
                self._require_queue(connection, self.retry.delay_queue(self.queue, step))
            channel = self._channel = connection.channel()
            channel.basic_qos(prefetch_count=self.prefetch)
            self._publish_channel = connection.channel()
            self._publish_channel.confirm_delivery()
            channel.basic_consume(self.queue, lambda ch, m, p, b: self._on_message(pool, m, p, b))
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            self._close(connection)
            return
        self._ready.set()
        try:
            while not self._stop.is_set():
                connection.process_data_events(time_limit=0.1)
        except pika.exceptions.AMQPError as exc:
            self._error = exc
            self.stats.recent.append(("connection lost", str(exc)))
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
            if self._kill.is_set():
                self._abort(connection)
            else:
                self._close(connection)

    def _on_message(self, pool: ThreadPoolExecutor, method: Any, properties: Any, body: bytes) -> None:
        delivery = decode(method, properties, body, self.registry)
        self.stats.received += 1
        if delivery.redelivered:
            self.stats.redelivered += 1
        if delivery.envelope is None:
            self.stats.malformed += 1
            if not self.dead_letter:  # nowhere to keep it: reject (the queue's own dead-letter target, if any)
                self._consume_channel().basic_nack(delivery.delivery_tag, requeue=False)
                self.stats.recent.append(("rejected malformed", delivery.error or ""))
                return
            try:
                self._park(delivery, delivery.error or "malformed", attempt=1)
            except pika.exceptions.AMQPChannelError as exc:
                self.stats.recent.append(("could not park", str(exc)))
                channel = self._consume_channel()
                if channel.is_open:
                    channel.basic_nack(delivery.delivery_tag, requeue=True)
            return
        future = pool.submit(self.handler, delivery)
        future.add_done_callback(lambda f: self._handoff(delivery, f))

    def _handoff(self, delivery: Delivery, future: Future[object]) -> None:
        # runs on a handler thread: only add_callback_threadsafe may touch the connection from here
        if future.cancelled():
            return  # stopping: the message stays unacked and the broker redelivers it
        connection = self._connection
        if connection is None or self._stop.is_set():
            return
        with contextlib.suppress(pika.exceptions.AMQPError, AttributeError, RuntimeError):
            connection.add_callback_threadsafe(lambda: self._settle(delivery, future.exception()))

    def _settle(self, delivery: Delivery, error: BaseException | None) -> None:
        if self._stop.is_set():
            return
        try:
            self._settle_or_raise(delivery, error)
        except pika.exceptions.AMQPChannelError as exc:
            # e.g. the retry queue was deleted under us: give the message back rather than lose it
            self.stats.recent.append(("could not settle", f"{self._label(delivery)}: {exc}"))
            with contextlib.suppress(pika.exceptions.AMQPError):
                self._consume_channel().basic_nack(delivery.delivery_tag, requeue=True)

    def _settle_or_raise(self, delivery: Delivery, error: BaseException | None) -> None:
        channel = self._consume_channel()
        if error is None:
            channel.basic_ack(delivery.delivery_tag)
            self.stats.processed += 1
            self.stats.recent.append(("processed", self._label(delivery)))
            return
        self.stats.failed += 1
        attempt = attempt_number(delivery.properties, self.queue)
        target = self.retry.next_queue(self.queue, attempt) if self.retry else None
        if target is not None:
            self._forward(delivery, target, error, attempt)
            self.stats.retried += 1
            self.stats.recent.append((f"retry {attempt} → {target}", f"{self._label(delivery)}: {error}"))
        elif self.dead_letter:
            self._park(delivery, error, attempt)
        else:
            channel.basic_nack(delivery.delivery_tag, requeue=self.requeue_on_failure)
            self.stats.recent.append(("rejected", f"{self._label(delivery)}: {error}"))

    def _park(self, delivery: Delivery, error: BaseException | str, attempt: int) -> None:
        self._forward(delivery, dead_letter_queue(self.queue), error, attempt)
        self.stats.dead_lettered += 1
        self.stats.recent.append(("dead-lettered", f"{self._label(delivery)}: {error}"))

    def _forward(self, delivery: Delivery, target: str, error: BaseException | str, attempt: int) -> None:
        """Republish to ``target`` (confirmed), then ack the original: never lost, but a crash between the confirm
        and the ack leaves a copy in both queues (at-least-once)."""
        props = delivery.properties
        headers = failure_headers(props, error=error, attempt=attempt, queue=self.queue,
                                  routing_key=delivery.routing_key)
        new_props = pika.BasicProperties(
            content_type=props.content_type, delivery_mode=pika.DeliveryMode.Persistent.value,
            message_id=props.message_id, type=props.type, correlation_id=props.correlation_id,
            timestamp=props.timestamp, headers=headers,
        )
        assert self._publish_channel is not None
        self._publish_channel.basic_publish("", target, delivery.body, new_props, mandatory=True)
        self._consume_channel().basic_ack(delivery.delivery_tag)

    def _consume_channel(self) -> BlockingChannel:
        assert self._channel is not None
        return self._channel

    def _require_queue(self, connection: pika.BlockingConnection, name: str) -> None:
        """Fail at start, not at the first failure, when a queue the worker forwards to is missing."""
        channel = connection.channel()
        try:
            channel.queue_declare(name, passive=True)
        except pika.exceptions.ChannelClosedByBroker as exc:
            raise CourseError(
                f"{self.name}: queue {name!r} does not exist, so failed messages would have nowhere to go. "
                f"Declare retry_topology({self.queue!r}, policy) (or the queue itself) first, "
                "or pass dead_letter=False to reject failures instead."
            ) from exc
        channel.close()

    @staticmethod
    def _label(delivery: Delivery) -> str:
        return delivery.properties.type or delivery.routing_key or "?"

    @staticmethod
    def _close(connection: pika.BlockingConnection) -> None:
        with contextlib.suppress(pika.exceptions.AMQPError, OSError):
            if connection.is_open:
                connection.close()

    @staticmethod
    def _abort(connection: pika.BlockingConnection) -> None:
        """Close the socket under pika's feet: the broker sees a dead peer, as after kill -9."""
        sock = getattr(getattr(getattr(connection, "_impl", None), "_transport", None), "_sock", None)
        if isinstance(sock, socket.socket):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(Exception):
            connection.process_data_events(time_limit=0.1)  # lets pika notice and tear down
        Worker._close(connection)
