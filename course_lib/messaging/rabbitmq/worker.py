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

Nothing that arrives stops the worker: a body, a property or a header of any type or encoding that the worker
cannot read, and any exception in its own bookkeeping about a message, sends that message to ``<queue>.dlq`` with
the reason. If the worker does stop on its own (its connection or channel is gone), ``running`` turns False, the
cause is kept in ``error``, and ``stop()`` / ``join()`` raise ``WorkerFailed`` with the cause chained. Lifecycle and
stats are the Kafka worker's too (``course_lib.messaging.workers``): a worker runs once, and ``stop()`` raises
``WorkerStuck`` rather than return while its thread still runs.

Moving a message (to a delay queue or the dead-letter queue) is publish-with-confirm, then ack: nothing is lost,
but it is at-least-once. A crash after the confirm and before the ack leaves the message in both queues, so it
is handled (or parked) twice — notebook 06's failure panel allows for it; handlers must tolerate a repeat.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pika
import pika.exceptions
from pika.adapters.blocking_connection import BlockingChannel

from course_lib.errors import CourseError, describe_error, raise_if_failed
from course_lib.messages import Registry
from course_lib.messages import registry as default_registry
from course_lib.messaging.rabbitmq.connection import connect
from course_lib.messaging.rabbitmq.retry import RetryPolicy, attempt_number, dead_letter_queue, failure_headers
from course_lib.messaging.rabbitmq.wire import Delivery, decode, raw_delivery, safe_repr
from course_lib.messaging.workers import WorkerStats, refuse_second_start, stop_thread

ConnectionGone = pika.exceptions.AMQPConnectionError
"""The one kind of error a callback lets through: without a connection there is nothing left to settle with."""

UNENCODABLE = (pika.exceptions.UnsupportedAMQPFieldException, pika.exceptions.ShortStringTooLong,
               struct.error, TypeError, ValueError, OverflowError, RecursionError)
"""What pika raises while encoding properties it decoded itself but cannot write back."""

Handler = Callable[[Delivery], object]


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
        self._error: BaseException | None = None  # why the running worker stopped on its own
        self._start_error: BaseException | None = None  # why start() failed (raised by start itself)
        self._thread: threading.Thread | None = None
        self._connection: pika.BlockingConnection | None = None
        self._publish_channel: BlockingChannel | None = None
        self._channel: BlockingChannel | None = None

    # ---- lifecycle -------------------------------------------------------------------------------------------
    def start(self, timeout: float = 10.0) -> Worker:
        """Connect and start consuming; raise the connection error (e.g. ``ServiceUnavailable``) if it failed.

        ``WorkerAlreadyStarted`` if it was started before: a worker runs once.
        """
        refuse_second_start(self.name, self._thread)
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            self._stop.set()
            self._thread.join(timeout)
            raise CourseError(f"{self.name} did not start consuming {self.queue!r} within {timeout:.0f}s")
        if self._start_error is not None:
            raise self._start_error
        return self

    @property
    def running(self) -> bool:
        """True while the consumer thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def error(self) -> BaseException | None:
        """Why the worker stopped on its own (None while it runs, and after a ``stop()`` you asked for)."""
        return self._error

    def stop(self, timeout: float = 5.0) -> None:
        """Stop consuming and close the connection; unacked messages go back to the queue. Returns promptly.

        Raises ``WorkerStuck`` if the worker's thread still runs after ``timeout``, ``WorkerFailed`` (cause
        chained) if the worker had already stopped on its own.
        """
        self._stop.set()
        stop_thread(self.name, self._thread, timeout, self._error)

    def join(self, timeout: float | None = None) -> None:
        """Wait until the worker thread ends (after ``stop()``, or on its own); ``WorkerFailed`` if it died."""
        if self._thread is not None:
            self._thread.join(timeout)
        raise_if_failed(self.name, self._error)

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
            self._start_error = exc
            self._ready.set()
            return
        self._connection = connection
        cancelled = threading.Event()
        try:
            if self.dead_letter:
                self._require_queue(connection, dead_letter_queue(self.queue))
            for step in range(len(self.retry.delays) if self.retry else 0):
                assert self.retry is not None
                self._require_queue(connection, self.retry.delay_queue(self.queue, step))
            channel = self._channel = connection.channel()
            channel.basic_qos(prefetch_count=self.prefetch)
            channel.add_on_cancel_callback(lambda _frame: cancelled.set())
            self._publish_channel = connection.channel()
            self._publish_channel.confirm_delivery()
            channel.basic_consume(self.queue, lambda ch, m, p, b: self._on_message(pool, m, p, b))
        except BaseException as exc:
            self._start_error = exc
            self._ready.set()
            self._close(connection)
            return
        self._ready.set()
        try:
            while not self._stop.is_set():
                connection.process_data_events(time_limit=0.1)
                self._check_still_consuming(channel, cancelled)
        except BaseException as exc:  # kept for stop()/join() and the widgets: a worker never dies silently
            self._error = exc
            self.stats.recent.append(("stopped", describe_error(exc)))
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
            if self._kill.is_set():
                self._abort(connection)
            else:
                self._close(connection)

    def _check_still_consuming(self, channel: BlockingChannel, cancelled: threading.Event) -> None:
        """A closed channel or a cancelled consumer leaves a live connection that receives nothing: say so."""
        if self._stop.is_set():
            return
        if cancelled.is_set():
            raise CourseError(f"{self.name}: the broker cancelled the consumer of {self.queue!r} (was the queue "
                              "deleted?). Declare the queue again, then start a new worker.")
        if not channel.is_open:
            reason = getattr(channel, "_closing_reason", None)
            raise CourseError(f"{self.name}: the broker closed the channel consuming {self.queue!r}"
                              f"{f' ({describe_error(reason)})' if reason else ''}; start a new worker.")

    def _on_message(self, pool: ThreadPoolExecutor, method: Any, properties: Any, body: bytes) -> None:
        try:
            self._receive(pool, method, properties, body)
        except ConnectionGone:
            raise
        except Exception as exc:  # whatever arrived, it must not stop the worker: park it with the reason
            self._park_unsettled(raw_delivery(method, properties, body),
                                 f"the worker could not take this message: {describe_error(exc)}")

    def _receive(self, pool: ThreadPoolExecutor, method: Any, properties: Any, body: bytes) -> None:
        delivery = decode(method, properties, body, self.registry)
        self.stats.received += 1
        if delivery.redelivered:
            self.stats.redelivered += 1
        if delivery.envelope is None:
            self.stats.malformed += 1
            self._park_unsettled(delivery, delivery.error or "malformed")
            return
        future = pool.submit(self.handler, delivery)
        future.add_done_callback(lambda f: self._handoff(delivery, f))

    def _park_unsettled(self, delivery: Delivery, reason: str) -> None:
        """Dead-letter a message that was neither acked nor forwarded yet; if even that fails, give it back.
        Without a dead-letter queue (``dead_letter=False``) reject it (the queue's own dead-letter target, if any)."""
        if not self.dead_letter:
            self._consume_channel().basic_nack(delivery.delivery_tag, requeue=False)
            self.stats.recent.append(("rejected", f"{self._label(delivery)}: {reason}"))
            return
        try:
            self._park(delivery, reason, attempt=1)
        except ConnectionGone:
            raise
        except Exception as exc:  # e.g. the dead-letter queue was deleted: requeue rather than lose it
            self.stats.recent.append(("could not park", f"{self._label(delivery)}: {describe_error(exc)}"))
            channel = self._consume_channel()
            if channel.is_open:
                channel.basic_nack(delivery.delivery_tag, requeue=True)

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
        except ConnectionGone:
            raise
        except pika.exceptions.AMQPChannelError as exc:
            # e.g. the retry queue was deleted under us: give the message back rather than lose it
            self.stats.recent.append(("could not settle", f"{self._label(delivery)}: {describe_error(exc)}"))
            with contextlib.suppress(pika.exceptions.AMQPError):
                self._consume_channel().basic_nack(delivery.delivery_tag, requeue=True)
        except Exception as exc:  # the worker's own bookkeeping failed on this message (before its ack): park it
            self._park_unsettled(delivery, f"the worker could not settle this message: {describe_error(exc)}")

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
            self.stats.recent.append((f"retry {attempt} → {target}", f"{self._label(delivery)}: "
                                                                    f"{describe_error(error)}"))
        elif self.dead_letter:
            self._park(delivery, error, attempt)
        else:
            channel.basic_nack(delivery.delivery_tag, requeue=self.requeue_on_failure)
            self.stats.recent.append(("rejected", f"{self._label(delivery)}: {describe_error(error)}"))

    def _park(self, delivery: Delivery, error: BaseException | str, attempt: int) -> None:
        self._forward(delivery, dead_letter_queue(self.queue), error, attempt)
        self.stats.dead_lettered += 1
        self.stats.recent.append(("dead-lettered", f"{self._label(delivery)}: {describe_error(error)}"))

    def _forward(self, delivery: Delivery, target: str, error: BaseException | str, attempt: int) -> None:
        """Republish to ``target`` (confirmed), then ack the original: never lost, but a crash between the confirm
        and the ack leaves a copy in both queues (at-least-once).

        The properties and headers travel with it. Should pika fail to write back what it read (a header type it
        decodes but cannot encode), the headers it cannot write travel as text instead.
        """
        props = delivery.properties
        headers = failure_headers(props, error=error, attempt=attempt, queue=self.queue,
                                  routing_key=delivery.routing_key)
        try:
            self._publish(target, delivery.body, _forwarded_properties(props, headers))
        except UNENCODABLE as exc:
            headers = {**_as_text(headers), "x-unencodable": describe_error(exc)[:1000]}
            self._publish(target, delivery.body, _forwarded_properties(props, headers, keep_ids=False))
        self._consume_channel().basic_ack(delivery.delivery_tag)

    def _publish(self, target: str, body: bytes, properties: pika.BasicProperties) -> None:
        channel = self._publish_channel
        if channel is None or not channel.is_open:  # the broker closed it after an earlier failure: a new one
            assert self._connection is not None
            channel = self._publish_channel = self._connection.channel()
            channel.confirm_delivery()
        channel.basic_publish("", target, body, properties, mandatory=True)

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
        label = delivery.properties.type or delivery.routing_key or "?"
        return label if isinstance(label, str) else repr(label)

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


def _forwarded_properties(props: pika.BasicProperties, headers: dict[str, Any], *,
                          keep_ids: bool = True) -> pika.BasicProperties:
    """The original's properties on a persistent copy. No ``expiration`` (a parked message must not expire) and no
    ``user_id`` (the broker refuses one that is not the publishing connection's user)."""
    if not keep_ids:  # a property pika could not write back: every short string as text
        return pika.BasicProperties(delivery_mode=pika.DeliveryMode.Persistent.value, headers=headers,
                                    **{name: _printable(getattr(props, name)) for name in _ID_PROPERTIES})
    return pika.BasicProperties(
        delivery_mode=pika.DeliveryMode.Persistent.value, headers=headers, priority=props.priority,
        timestamp=props.timestamp, **{name: getattr(props, name) for name in _ID_PROPERTIES},
    )


_ID_PROPERTIES = ("content_type", "content_encoding", "message_id", "type", "correlation_id", "reply_to", "app_id")


def _printable(value: object) -> str | None:
    if value is None:
        return None
    text = value.decode("utf-8", "backslashreplace") if isinstance(value, bytes) else str(value)
    return _short(text)


def _as_text(headers: dict[str, Any]) -> dict[str, Any]:
    """Headers pika can always encode: strings and 64-bit ints stay, everything else becomes its repr."""
    def writable(value: object) -> object:
        if isinstance(value, str) or (type(value) is int and -(2**63) <= value < 2**63):
            return value
        return safe_repr(value)

    return {_short(key): writable(value) for key, value in headers.items()}


def _short(key: object) -> str:
    """A header name that fits an AMQP short string (at most 255 bytes of UTF-8)."""
    text = key if isinstance(key, str) else safe_repr(key)
    return text.encode()[:255].decode("utf-8", "ignore")
