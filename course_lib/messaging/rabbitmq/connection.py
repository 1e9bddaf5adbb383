"""Connecting to RabbitMQ with parameters that fail fast and say what to do.

pika's defaults wait a long time on a broker that is down and give an error that names neither the URL nor the fix.
Here a connection attempt is answered within a few seconds with ``ServiceUnavailable``. ``RabbitConnection``
also reconnects when a notebook's connection died while it sat idle between cells (pika's blocking connection only
sends heartbeats while you call into it, so the broker drops it after about two heartbeat intervals of silence).
"""

from __future__ import annotations

import contextlib
from types import TracebackType

import pika
import pika.exceptions
from pika.adapters.blocking_connection import BlockingChannel
from pika.adapters.utils.connection_workflow import AMQPConnectorException

from course_lib.config import get_settings
from course_lib.messaging.rabbitmq.connect_errors import unavailable
from course_lib.messaging.rabbitmq.frames import make_tolerant

__all__ = ["RabbitConnection", "connect", "connection_parameters"]


def connection_parameters(
    url: str | None = None, *, name: str = "course_lib", heartbeat: int = 30, timeout: float | None = None
) -> pika.URLParameters:
    """pika parameters with a heartbeat, a blocked-connection timeout and short connect/socket timeouts."""
    settings = get_settings()
    timeout = settings.connect_timeout_s if timeout is None else timeout
    params = pika.URLParameters(url or settings.rabbitmq_url)
    params.heartbeat = heartbeat
    params.blocked_connection_timeout = 30  # a broker in memory alarm blocks publishers: fail instead of hanging
    params.socket_timeout = timeout
    params.stack_timeout = timeout + 2
    params.connection_attempts = 1
    params.retry_delay = 0
    params.client_properties = {"connection_name": name}
    return params


def connect(
    url: str | None = None, *, name: str = "course_lib", heartbeat: int = 30, timeout: float | None = None
) -> pika.BlockingConnection:
    """A blocking connection, or ``ServiceUnavailable`` naming the URL, the kind of failure and its fix.

    Answers within ``timeout + 2`` seconds (``timeout`` defaults to ``COURSE_CONNECT_TIMEOUT_S``), also when the
    address accepts TCP but never speaks AMQP (a hung broker). Headers pika cannot decode do not take this
    connection down (see ``frames``).
    """
    url = url or get_settings().rabbitmq_url
    params = connection_parameters(url, name=name, heartbeat=heartbeat, timeout=timeout)
    try:
        connection = pika.BlockingConnection(params)
    except (pika.exceptions.AMQPConnectionError, AMQPConnectorException, OSError) as exc:
        raise unavailable(exc, url, params) from exc
    return make_tolerant(connection)


class RabbitConnection:
    """A blocking connection that reconnects on demand. Use one per thread (pika connections are not thread-safe).

    ``channel()`` always returns an open channel on a live connection, reconnecting first if the old connection
    died (idle notebook, broker restart). Usable as a context manager.
    """

    def __init__(self, url: str | None = None, *, name: str = "course_lib", heartbeat: int = 30) -> None:
        self.url = url or get_settings().rabbitmq_url
        self.name = name
        self.heartbeat = heartbeat
        self.reconnects = 0
        self._connection: pika.BlockingConnection | None = None

    @property
    def connection(self) -> pika.BlockingConnection:
        """The open connection, connecting if there is none (no liveness probe: that is ``ensure_open``)."""
        if not self.is_open:
            self.ensure_open()
        assert self._connection is not None
        return self._connection

    @property
    def is_open(self) -> bool:
        """True when pika believes the connection is open (no I/O; a silently dropped socket still says True)."""
        return self._connection is not None and bool(self._connection.is_open)

    def is_alive(self) -> bool:
        """True when the connection is open and answers; processing events surfaces a dropped socket."""
        if self._connection is None or not self._connection.is_open:
            return False
        try:
            self._connection.process_data_events(time_limit=0)
        except pika.exceptions.AMQPError:
            return False
        return bool(self._connection.is_open)

    def ensure_open(self) -> bool:
        """Reconnect if the connection is closed or dead. True when a new connection was made."""
        if self.is_alive():
            return False
        had_one = self._connection is not None
        self._close_quietly()
        self._connection = connect(self.url, name=self.name, heartbeat=self.heartbeat)
        if had_one:
            self.reconnects += 1
        return True

    def channel(self) -> BlockingChannel:
        """A new open channel on a live connection (probes first and reconnects if the old one died)."""
        self.ensure_open()
        assert self._connection is not None
        return self._connection.channel()

    def process_events(self, seconds: float = 0) -> None:
        """Let pika send heartbeats and deliver callbacks for up to ``seconds``."""
        self.connection.process_data_events(time_limit=seconds)

    def close(self) -> None:
        """Close the connection (idempotent)."""
        self._close_quietly()

    def _close_quietly(self) -> None:
        if self._connection is not None and self._connection.is_open:
            with contextlib.suppress(pika.exceptions.AMQPError):  # already broken: nothing to close cleanly
                self._connection.close()
        self._connection = None

    def __enter__(self) -> RabbitConnection:
        self.ensure_open()
        return self

    def __exit__(self, *exc: object | TracebackType) -> None:
        self.close()
