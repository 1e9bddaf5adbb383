"""Load at a chosen rate: a paced publisher and a paced (slow) consumer, each a background thread with ``stop()``.

They make backlogs on purpose. :class:`PacedPublisher` publishes ``rate`` messages per second with confirms; a
refused message (a publisher **nack**, e.g. from a full queue with ``x-overflow: reject-publish``) is counted,
kept, and sent again — and with ``adaptive=True`` the publisher halves its rate on each nack and creeps back up
on acks (:class:`course_lib.pacing.AdaptiveRate`), which is how a publisher should answer backpressure.
:class:`PacedConsumer` acks at most ``rate`` messages per second: the broker pushes up to ``prefetch`` messages
ahead (they are *unacked* and sit in this process's ``held`` buffer); ``prefetch=0`` means unlimited — the broker
sends everything and the buffer grows with the backlog.

Each thread owns its connection (pika is not thread-safe). Both check a stop flag at least every 50 ms.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

import pika
import pika.exceptions

from course_lib.errors import CourseError
from course_lib.messaging.rabbitmq.connection import connect
from course_lib.messaging.workers import refuse_second_start, stop_thread
from course_lib.pacing import AdaptiveRate, Pacer

TICK_S = 0.02


class _Loop:
    """A background thread with the workers' lifecycle (``course_lib.messaging.workers``): it starts once, and
    ``stop()`` raises ``WorkerStuck`` if the thread does not end, ``WorkerFailed`` if it had died of an error."""

    name = "load"

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None

    @property
    def running(self) -> bool:
        """Whether the thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def start(self, timeout: float = 10.0) -> Any:
        """Start the thread; return once it is connected (or raise why it could not)."""
        refuse_second_start(self.name, self._thread)
        self._thread = threading.Thread(target=self._guarded, name=self.name, daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            self._stop.set()
            raise CourseError(f"{self.name} did not start within {timeout:.0f}s")
        if self.error is not None:
            raise self.error
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop and join (see the class docstring for what it raises)."""
        self._stop.set()
        stop_thread(self.name, self._thread, timeout, self.error)

    def _guarded(self) -> None:
        try:
            self._run()
        except BaseException as exc:  # kept for stop() and the widget; the thread ends
            self.error = exc
        finally:
            self._ready.set()

    def _run(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


class PacedPublisher(_Loop):
    """Publish ``body(i)`` (default: ``b"m<i>"``) to ``queue`` at ``rate`` per second, confirmed one by one."""

    def __init__(self, queue: str, rate: float, *, url: str | None = None, adaptive: bool = False,
                 limit: int | None = None, body_size: int = 0) -> None:
        super().__init__()
        self.name = f"paced-publisher-{queue}"
        self.queue = queue
        self.url = url
        self.pacer = Pacer(rate)
        self.adaptive = AdaptiveRate(rate, floor=max(1.0, rate / 32), step=max(0.5, rate / 50)) if adaptive else None
        self.limit = limit  # stop after this many confirmed messages
        self.body_size = body_size
        self.confirmed = 0
        self.nacked = 0
        self.rates: list[float] = []  # the rate after each nack (adaptive only)
        self._retry: deque[int] = deque()
        self._next = 0

    def set_rate(self, rate: float) -> None:
        """Publish at ``rate`` per second from now on."""
        self.pacer.set_rate(rate)
        if self.adaptive is not None:
            self.adaptive.ceiling = self.adaptive.rate = max(rate, self.adaptive.floor)

    @property
    def done(self) -> bool:
        """Whether ``limit`` messages were confirmed."""
        return self.limit is not None and self.confirmed >= self.limit

    def body(self, i: int) -> bytes:
        """The ``i``-th message: its number, padded to ``body_size`` bytes."""
        return f"m{i}".encode().ljust(self.body_size, b".")

    def _run(self) -> None:
        connection = connect(self.url, name=self.name)
        channel = connection.channel()
        channel.confirm_delivery()
        self._ready.set()
        props = pika.BasicProperties(delivery_mode=2)
        try:
            while not self._stop.is_set() and not self.done:
                due = self.pacer.take()
                if not due:
                    connection.process_data_events(min(TICK_S, self.pacer.wait_s()))
                    continue
                for _ in range(due):
                    if self._stop.is_set() or self.done:
                        break
                    i = self._retry.popleft() if self._retry else self._take_number()
                    try:
                        channel.basic_publish("", self.queue, self.body(i), props)
                    except pika.exceptions.NackError:
                        self.nacked += 1
                        self._retry.append(i)  # refused, not lost: it goes again later
                        if self.adaptive is not None:
                            self.pacer.set_rate(self.adaptive.refused())
                            self.rates.append(self.adaptive.rate)
                        break  # back off now: the queue is full
                    self.confirmed += 1
                    if self.adaptive is not None:
                        self.pacer.set_rate(self.adaptive.accepted())
        finally:
            if connection.is_open:
                connection.close()

    def _take_number(self) -> int:
        i = self._next
        self._next += 1
        return i


class PacedConsumer(_Loop):
    """Consume ``queue`` with ``prefetch``, acking at most ``rate`` messages per second (a slow consumer)."""

    def __init__(self, queue: str, rate: float, *, url: str | None = None, prefetch: int = 10,
                 keep_bodies: bool = False) -> None:
        super().__init__()
        if prefetch < 0:
            raise ValueError("prefetch must be >= 0 (0 means unlimited)")
        self.name = f"paced-consumer-{queue}"
        self.queue = queue
        self.url = url
        self.prefetch = prefetch
        self.pacer = Pacer(rate)
        self.held: deque[tuple[int, bytes]] = deque()  # delivered, not yet acked: this process's buffer
        self.max_held = 0
        self.acked = 0
        self.bodies: list[bytes] = []  # what was acked, in order (keep_bodies=True)
        self.keep_bodies = keep_bodies

    def set_rate(self, rate: float) -> None:
        """Ack at most ``rate`` per second from now on (0 stalls the consumer: it holds its prefetch)."""
        self.pacer.set_rate(rate)

    @property
    def held_bytes(self) -> int:
        """Bytes of message bodies held in this process, delivered but not yet handled."""
        return sum(len(body) for _, body in list(self.held))

    def _run(self) -> None:
        connection = connect(self.url, name=self.name)
        channel = connection.channel()
        channel.basic_qos(prefetch_count=self.prefetch)

        def on_message(_ch: Any, method: Any, _props: Any, body: bytes) -> None:
            self.held.append((method.delivery_tag, body))
            self.max_held = max(self.max_held, len(self.held))

        channel.basic_consume(self.queue, on_message)
        self._ready.set()
        try:
            while not self._stop.is_set():
                connection.process_data_events(TICK_S)
                for _ in range(self.pacer.take(limit=len(self.held))):
                    tag, body = self.held.popleft()
                    channel.basic_ack(tag)
                    self.acked += 1
                    if self.keep_bodies:
                        self.bodies.append(body)
        finally:
            if connection.is_open:
                connection.close()  # what was held and not acked goes back to the queue
