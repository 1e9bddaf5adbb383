"""Publishing envelopes: persistent, confirmed by the broker, and ``mandatory`` so nothing vanishes silently.

- **Publisher confirms** (on by default): the broker acknowledges each message once it has taken
  responsibility for it (for a durable queue and a persistent message: written to disk). Without confirms, a
  message lost on the way is lost without anyone knowing.
- **mandatory**: a message that matches no binding is returned to us and becomes ``Unroutable``, instead of
  being dropped by the exchange.
- ``publish`` waits for each confirm (simple, slow); ``publish_many`` sends a batch and waits once for all of its
  confirms (fast), still raising if any message was returned or refused.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import pika
import pika.exceptions
from pika.adapters.blocking_connection import BlockingChannel

from course_lib.errors import CourseError
from course_lib.messages import Envelope, to_bytes
from course_lib.messages import routing_key as routing_key_for
from course_lib.messaging.rabbitmq.connection import RabbitConnection
from course_lib.messaging.rabbitmq.wire import properties_for


class Unroutable(CourseError):
    """A mandatory message matched no queue and the broker returned it."""

    def __init__(self, exchange: str, routing_keys: list[str]) -> None:
        self.exchange = exchange
        self.routing_keys = routing_keys
        shown = ", ".join(sorted(set(routing_keys))[:5])
        super().__init__(
            f"{len(routing_keys)} message(s) to exchange {exchange or '(default)'!r} with routing key(s) [{shown}] "
            "matched no queue and were returned. Bind a queue whose binding key matches (and declare it before "
            "publishing), or publish with mandatory=False if dropping such messages is really acceptable."
        )


class PublishNotConfirmed(CourseError):
    """The broker refused (nack) a message, or did not confirm it in time."""


class Publisher:
    """Publishes envelopes to one exchange with confirms and ``mandatory`` on by default.

    Owns a channel on ``conn``; not thread-safe (like pika itself): use one publisher per thread.
    """

    def __init__(
        self, conn: RabbitConnection, exchange: str = "", *, confirms: bool = True, mandatory: bool = True,
        confirm_timeout: float = 10.0,
    ) -> None:
        self.conn = conn
        self.exchange = exchange
        self.confirms = confirms
        self.mandatory = mandatory
        self.confirm_timeout = confirm_timeout
        self.published = 0
        self._channel: BlockingChannel | None = None
        self._batch_channel: BlockingChannel | None = None
        self._batch_state: dict[str, Any] = {}

    def _open(self) -> BlockingChannel:
        # cheap checks only: a per-message liveness probe would cost a syscall per publish
        if self._channel is None or not self._channel.is_open or not self.conn.is_open:
            self._channel = self.conn.channel()
            if self.confirms:
                self._channel.confirm_delivery()
        return self._channel

    def publish(
        self, env: Envelope[Any], routing_key: str | None = None, *, headers: dict[str, Any] | None = None,
        exchange: str | None = None,
    ) -> None:
        """Publish one envelope and (with confirms) wait until the broker has it. Key default: from its type."""
        key = routing_key if routing_key is not None else routing_key_for(env.message)
        self.publish_body(env_body(env), key, properties_for(env, headers), exchange=exchange)

    def publish_body(
        self, body: bytes, routing_key: str, properties: pika.BasicProperties | None = None, *,
        exchange: str | None = None,
    ) -> None:
        """Publish raw bytes (used for forwarding, and to show what malformed messages do)."""
        target = self.exchange if exchange is None else exchange
        props = properties or pika.BasicProperties(delivery_mode=pika.DeliveryMode.Persistent.value)
        channel = self._open()
        try:
            try:
                channel.basic_publish(target, routing_key, body, props, mandatory=self.mandatory)
            except (pika.exceptions.AMQPConnectionError, pika.exceptions.ChannelWrongStateError):
                # the connection died while idle (e.g. between notebook cells): reconnect and publish once more
                self._channel = None
                self.conn.ensure_open()
                self._open().basic_publish(target, routing_key, body, props, mandatory=self.mandatory)
        except pika.exceptions.UnroutableError as exc:
            raise Unroutable(target, [routing_key]) from exc
        except pika.exceptions.NackError as exc:
            raise PublishNotConfirmed(
                f"the broker refused a message to {target!r} ({routing_key}); it may be out of disk or memory, "
                "or the queue is full with overflow=reject-publish. Look at the broker's log and queue limits."
            ) from exc
        self.published += 1

    def publish_many(
        self, items: Iterable[Envelope[Any] | tuple[Envelope[Any], str]], *, batch_size: int = 100,
    ) -> int:
        """Publish envelopes (or ``(envelope, routing_key)`` pairs) waiting for confirms once per batch."""
        batch: list[tuple[bytes, str, pika.BasicProperties]] = []
        sent = 0
        for item in items:
            env, key = item if isinstance(item, tuple) else (item, routing_key_for(item.message))
            batch.append((env_body(env), key, properties_for(env)))
            if len(batch) >= batch_size:
                sent += self.publish_bodies(batch)
                batch = []
        if batch:
            sent += self.publish_bodies(batch)
        return sent

    def publish_bodies(self, batch: list[tuple[bytes, str, pika.BasicProperties]]) -> int:
        """Send pre-encoded messages, then wait for all of their confirms; ``Unroutable`` if any came back."""
        channel, state = self._open_batch()
        impl = channel._impl  # the asynchronous channel: publish without waiting for each confirm
        first = state["next_tag"]
        for body, key, props in batch:
            impl.basic_publish(self.exchange, key, body, props, mandatory=self.mandatory)
        state["next_tag"] = first + len(batch)
        last = state["next_tag"] - 1
        deadline = time.monotonic() + self.confirm_timeout
        connection = self.conn.connection
        while state["confirmed_upto"] < last and channel.is_open:
            if time.monotonic() > deadline:
                raise PublishNotConfirmed(
                    f"no confirm within {self.confirm_timeout:.0f}s for {last - state['confirmed_upto']} "
                    "message(s); the broker may be blocked (memory/disk alarm). Check `rabbitmqctl status`."
                )
            connection.process_data_events(time_limit=0.25)  # on_confirm ends this wait early
        if not channel.is_open:
            raise PublishNotConfirmed("the channel closed before all confirms arrived; publish the batch again")
        returned, nacked = state["returned"], state["nacked"]
        state["returned"], state["nacked"] = [], 0
        if nacked:
            raise PublishNotConfirmed(f"the broker refused {nacked} message(s) of the batch; publish them again")
        if returned:
            raise Unroutable(self.exchange, returned)
        self.published += len(batch)
        return len(batch)

    def _open_batch(self) -> tuple[BlockingChannel, dict[str, Any]]:
        if self._batch_channel is not None and self._batch_channel.is_open and self.conn.is_open:
            return self._batch_channel, self._batch_state
        channel = self.conn.channel()
        state: dict[str, Any] = {"next_tag": 1, "confirmed_upto": 0, "returned": [], "nacked": 0, "ready": False}

        connection = self.conn.connection

        def on_confirm(frame: Any) -> None:
            method = frame.method
            tag = method.delivery_tag
            count = (tag - state["confirmed_upto"]) if method.multiple else 1
            if isinstance(method, pika.spec.Basic.Nack):
                state["nacked"] += count
            state["confirmed_upto"] = max(state["confirmed_upto"], tag)
            if state["confirmed_upto"] >= state["next_tag"] - 1:
                # wake the waiting process_data_events now instead of at the end of its time slice
                connection.add_callback_threadsafe(_nothing)

        def on_return(_ch: Any, method: Any, _props: Any, _body: bytes) -> None:
            state["returned"].append(method.routing_key)

        def on_select_ok(_frame: Any) -> None:
            state["ready"] = True

        impl = channel._impl
        impl.add_on_return_callback(on_return)
        impl.confirm_delivery(ack_nack_callback=on_confirm, callback=on_select_ok)
        deadline = time.monotonic() + self.confirm_timeout
        while not state["ready"] and time.monotonic() < deadline:
            self.conn.connection.process_data_events(time_limit=0.05)
        self._batch_channel, self._batch_state = channel, state
        return channel, state

    def close(self) -> None:
        """Close the publisher's channels (the connection stays open)."""
        for channel in (self._channel, self._batch_channel):
            if channel is not None and channel.is_open:
                channel.close()
        self._channel = self._batch_channel = None


def _nothing() -> None:
    """A no-op callback whose only job is to end a ``process_data_events`` wait early."""


def env_body(env: Envelope[Any]) -> bytes:
    """The bytes sent for an envelope (its JSON)."""
    return to_bytes(env)
