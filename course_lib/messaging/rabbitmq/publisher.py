"""Publishing envelopes: persistent, confirmed by the broker, and ``mandatory`` so nothing vanishes silently.

- **Publisher confirms** (on by default): the broker acknowledges each message once it has taken
  responsibility for it (for a durable queue and a persistent message: written to disk). Without confirms, a
  message lost on the way is lost without anyone knowing.
- **mandatory**: a message that matches no binding is returned to us and becomes ``Unroutable``, instead of
  being dropped by the exchange.
- ``publish`` waits for each confirm (simple, slow); ``publish_many`` sends a batch and waits until the broker has
  answered for every message of it (fast), still raising if any message was returned or refused — and naming
  which ones. Confirms can arrive out of publish order, so they are counted per delivery tag
  (``course_lib.messaging.rabbitmq.confirms``), never as "the highest tag so far".
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import pika
import pika.exceptions
from pika.adapters.blocking_connection import BlockingChannel

from course_lib.messages import Envelope, to_bytes
from course_lib.messages import routing_key as routing_key_for
from course_lib.messaging.rabbitmq.confirms import ConfirmReport, ConfirmTracker, FailedMessage
from course_lib.messaging.rabbitmq.connection import RabbitConnection
from course_lib.messaging.rabbitmq.errors import PublishNotConfirmed, Unroutable
from course_lib.messaging.rabbitmq.wire import properties_for


def _describe(failed: tuple[FailedMessage, ...]) -> str:
    shown = ", ".join(f"{f.message_id or '?'} ({f.routing_key})" for f in failed[:5])
    more = f" and {len(failed) - 5} more" if len(failed) > 5 else ""
    return f"{shown}{more}"


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
        self._tracker = ConfirmTracker()

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
        """Publish envelopes (or ``(envelope, routing_key)`` pairs), waiting for confirms once per batch.

        Returns how many were confirmed (all of them), or raises once every batch was tried: the exception's
        ``report`` names each message that was returned or refused, so a caller can republish just those. If a
        batch is left unanswered (timeout, closed channel) it stops there: the items after it were not published.
        """
        reports: list[ConfirmReport] = []
        batch: list[tuple[bytes, str, pika.BasicProperties]] = []
        for item in items:
            env, key = item if isinstance(item, tuple) else (item, routing_key_for(item.message))
            batch.append((env_body(env), key, properties_for(env)))
            if len(batch) >= batch_size:
                reports.append(self.publish_batch(batch))
                batch = []
                if reports[-1].unconfirmed:
                    break
        if batch and not (reports and reports[-1].unconfirmed):
            reports.append(self.publish_batch(batch))
        report = ConfirmReport(tuple(m for r in reports for m in r.confirmed),
                               tuple(f for r in reports for f in r.failed))
        return self._confirmed_or_raise(report)

    def publish_bodies(self, batch: list[tuple[bytes, str, pika.BasicProperties]]) -> int:
        """Send pre-encoded messages, then wait until the broker has answered for every one of them.

        Returns how many were confirmed — all of them, or it raises: ``Unroutable`` when some matched no queue,
        ``PublishNotConfirmed`` when some were refused or not answered in time. Either exception's ``report``
        names each such message (id and routing key); every other message of the batch is confirmed.
        """
        return self._confirmed_or_raise(self.publish_batch(batch))

    def _confirmed_or_raise(self, report: ConfirmReport) -> int:
        self.published += len(report.confirmed)
        if report.ok:
            return len(report.confirmed)
        refused = report.nacked + report.unconfirmed
        total = len(report.confirmed) + len(report.failed)
        if refused:
            raise PublishNotConfirmed(
                f"the broker did not confirm {len(refused)} of {total} message(s) to {self.exchange!r}: "
                f"{_describe(refused)}. Refused (nack) means it is out of disk or memory, or a queue is full with "
                "overflow=reject-publish; unconfirmed means no answer in time (is the broker blocked? "
                "`rabbitmqctl status`). Republish the messages in `error.report.failed`; the others are confirmed.",
                report)
        raise Unroutable(self.exchange, [f.routing_key for f in report.returned], report)

    def publish_batch(self, batch: list[tuple[bytes, str, pika.BasicProperties]]) -> ConfirmReport:
        """Send messages on the confirm channel and wait for the broker's answer to each; report, never raise.

        Confirms can arrive in any order, so this waits until no delivery tag of the batch is outstanding (or
        ``confirm_timeout`` passes: the rest are reported ``unconfirmed``).
        """
        channel, tracker = self._open_batch()
        impl = channel._impl  # the asynchronous channel: publish without waiting for each confirm
        for body, key, props in batch:
            message_id = props.message_id or ""
            tracker.sent(message_id, key, b"" if message_id else body)
            impl.basic_publish(self.exchange, key, body, props, mandatory=self.mandatory)
        deadline = time.monotonic() + self.confirm_timeout
        connection = self.conn.connection
        while tracker.outstanding and channel.is_open and time.monotonic() < deadline:
            connection.process_data_events(time_limit=0.25)  # the last confirm ends this wait early
        if tracker.outstanding:
            # a channel with answers still due cannot be reused: its late acks would settle the next batch's tags
            self._batch_channel = None
            if channel.is_open:
                channel.close()
        return tracker.report()

    def _open_batch(self) -> tuple[BlockingChannel, ConfirmTracker]:
        if self._batch_channel is not None and self._batch_channel.is_open and self.conn.is_open:
            return self._batch_channel, self._tracker
        channel = self.conn.channel()
        tracker = ConfirmTracker()
        ready: list[bool] = []
        connection = self.conn.connection

        def on_confirm(frame: Any) -> None:
            method = frame.method
            if isinstance(method, pika.spec.Basic.Nack):
                tracker.nacked(method.delivery_tag, method.multiple)
            else:
                tracker.acked(method.delivery_tag, method.multiple)
            if not tracker.outstanding:
                # wake the waiting process_data_events now instead of at the end of its time slice
                connection.add_callback_threadsafe(_nothing)

        def on_return(_ch: Any, method: Any, props: Any, body: bytes) -> None:
            tracker.returned(props.message_id or "", method.routing_key, body, method.reply_text or "")

        impl = channel._impl
        impl.add_on_return_callback(on_return)
        impl.confirm_delivery(ack_nack_callback=on_confirm, callback=lambda _frame: ready.append(True))
        deadline = time.monotonic() + self.confirm_timeout
        while not ready and time.monotonic() < deadline:
            connection.process_data_events(time_limit=0.05)
        if not ready:
            raise PublishNotConfirmed(
                f"the broker did not switch the channel to confirm mode within {self.confirm_timeout:.0f}s; it may "
                "be blocked (memory/disk alarm). Check `rabbitmqctl status`.")
        self._batch_channel, self._tracker = channel, tracker
        return channel, tracker

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
