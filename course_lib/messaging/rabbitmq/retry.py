"""Retries with backoff through delay queues, and a dead-letter queue that keeps what could not be processed.

Core RabbitMQ has no "deliver later", and the community delayed-message-exchange plugin is archived (January
2026) with no release for RabbitMQ 4.3. So a delay here is a queue nobody consumes from, whose messages expire
after a TTL and are then dead-lettered back to the work queue:

    work queue --(handler failed, attempt n)--> <queue>.retry.<delay> --(TTL expires)--> work queue
               --(last attempt failed, or the message is malformed)--> <queue>.dlq (with the error in headers)

One delay queue per step (e.g. 1 s, 5 s, 30 s) because a queue's TTL applies to the message at its head: mixing
delays in one queue would hold short delays behind long ones. The broker records each expiry in the message's
``x-death`` header; the attempt number is read from there (and from our own ``x-retry-count`` header, since
RabbitMQ 4.x no longer lets clients carry ``x-death`` forward when they republish).

The alternative without delays: a quorum queue with ``x-delivery-limit`` dead-letters a message after that many
redeliveries (``quorum_with_delivery_limit``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pika

from course_lib.errors import describe_error
from course_lib.messaging.rabbitmq.topology import Queue, QueueKind, Topology
from course_lib.messaging.rabbitmq.wire import header_count, safe_repr, x_death_count

RETRY_COUNT_HEADER = "x-retry-count"


@dataclass(frozen=True)
class RetryPolicy:
    """Delays (seconds) between attempts: ``(1, 5, 30)`` means four attempts in all, then the dead-letter queue."""

    delays: tuple[float, ...] = (1.0, 5.0, 30.0)

    @classmethod
    def exponential(cls, first: float, factor: float = 2.0, retries: int = 3) -> RetryPolicy:
        """``first``, ``first*factor``, ``first*factor**2`` … (``retries`` steps)."""
        return cls(tuple(round(first * factor**i, 3) for i in range(retries)))

    @property
    def max_attempts(self) -> int:
        """The first delivery plus one per delay step."""
        return len(self.delays) + 1

    def delay_queue(self, queue: str, step: int) -> str:
        """The name of the delay queue for retry ``step`` (0-based)."""
        return f"{queue}.retry.{round(self.delays[step] * 1000)}ms"

    def next_queue(self, queue: str, attempt: int) -> str | None:
        """Where a message goes after failing attempt ``attempt`` (1-based): a delay queue, or ``None`` (give up)."""
        return self.delay_queue(queue, attempt - 1) if attempt <= len(self.delays) else None


def dead_letter_queue(queue: str) -> str:
    """The name of ``queue``'s dead-letter (parking-lot) queue."""
    return f"{queue}.dlq"


def attempt_number(properties: pika.BasicProperties, queue: str) -> int:
    """Which attempt this delivery is (1 for the first), from ``x-death`` expiries of our delay queues and our own
    ``x-retry-count``. A count another producer wrote that is not an integer is ignored (the worker overwrites it
    with its own on the next retry)."""
    from_broker = x_death_count(properties, reason="expired", queue_prefix=f"{queue}.retry.")
    headers = properties.headers if isinstance(properties.headers, dict) else {}
    from_us = header_count(headers.get(RETRY_COUNT_HEADER, 0)) or 0
    return 1 + max(from_broker, from_us)


def retry_topology(queue: str, policy: RetryPolicy, *, kind: QueueKind = "quorum") -> Topology:
    """The work queue, one delay queue per step (dead-lettering back to it) and the dead-letter queue.

    Messages reach the delay and dead-letter queues through the default exchange (routing key = queue name), so
    no extra exchange is needed. Bind the work queue to your exchanges separately.
    """
    queues = [Queue(queue, kind=kind), Queue(dead_letter_queue(queue), kind=kind if kind != "exclusive" else "classic")]
    for step in range(len(policy.delays)):
        queues.append(Queue(policy.delay_queue(queue, step), kind="classic", message_ttl=policy.delays[step],
                            dead_letter_exchange="", dead_letter_routing_key=queue))
    return Topology(queues=queues)


def quorum_with_delivery_limit(queue: str, limit: int) -> Topology:
    """A quorum queue that dead-letters a message to ``<queue>.dlq`` after ``limit`` failed deliveries."""
    return Topology(queues=[
        Queue(queue, kind="quorum", delivery_limit=limit, dead_letter_exchange="",
              dead_letter_routing_key=dead_letter_queue(queue)),
        Queue(dead_letter_queue(queue), kind="quorum"),
    ])


def failure_headers(properties: pika.BasicProperties, *, error: BaseException | str, attempt: int,
                    queue: str, routing_key: str) -> dict[str, Any]:
    """Headers for a message leaving ``queue`` after a failure: the old headers plus what went wrong.

    Two kinds of old header would make the broker act on the copy, so they travel renamed as
    ``x-original-<name>``: ``CC``/``BCC`` (the broker would route the copy to those queues as well), and an
    ``x-death`` that is not as a broker writes it — RabbitMQ 3.x increments the ``count`` of a matching entry when a
    delay queue dead-letters the copy, and a count that is not a number crashes that queue, losing the message.
    """
    headers = dict(properties.headers) if isinstance(properties.headers, dict) else {}
    for name in ("CC", "BCC"):
        if name in headers:
            headers[f"x-original-{name}"] = headers.pop(name)
    if "x-death" in headers and not broker_written_x_death(headers["x-death"]):
        headers["x-original-x-death"] = safe_repr(headers.pop("x-death"))
    headers.update({
        RETRY_COUNT_HEADER: attempt,
        "x-last-error": describe_error(error)[:1000],
        "x-original-queue": queue,
        "x-original-routing-key": routing_key,
    })
    return headers


def broker_written_x_death(value: object) -> bool:
    """True when ``value`` has the shape RabbitMQ gives ``x-death``: a list of tables whose counts are integers."""
    return isinstance(value, list) and all(
        isinstance(entry, dict) and type(entry.get("count", 1)) is int for entry in value)
