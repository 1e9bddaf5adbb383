"""Topology as data: exchanges, queues and bindings described once and declared idempotently.

Declaring is idempotent in AMQP as long as the arguments match. When they don't (a queue that exists as classic
is redeclared as quorum, a different TTL …) the broker answers ``406 PRECONDITION_FAILED`` and closes the channel.
``declare`` uses its own channel and turns that into ``TopologyMismatch`` explaining the fix, so the caller's
channel and connection stay usable.

Queues are durable or exclusive, never "non-durable and shared" (transient non-exclusive): such a queue loses its
messages on a restart, and RabbitMQ has deprecated it (the ``transient_nonexcl_queues`` deprecated feature).
Up to 4.2 a broker accepts it with a deprecation warning in its log (the course's ``docker-compose.yml`` pins
4.1.4, the CI machine runs 3.10); from **4.3.0** it refuses it by default (``541 INTERNAL_ERROR``, unless every node
sets ``deprecated_features.permit.transient_nonexcl_queues = true``).

When a declaration conflicts, the fix is rarely "delete and declare again": deleting a queue throws its messages
away. TTL, dead-lettering and length limits can be changed on a live queue with a **policy**
(``course_lib.messaging.rabbitmq.policies``); only a change of queue type needs a new queue.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import pika.exceptions

from course_lib.errors import CourseError
from course_lib.messaging.rabbitmq.connection import RabbitConnection

ExchangeType = Literal["direct", "topic", "fanout", "headers"]
QueueKind = Literal["classic", "quorum", "exclusive"]


class TopologyMismatch(CourseError):
    """A declaration conflicts with what already exists on the broker (AMQP 406)."""


def refuses_transient_nonexclusive_queues(version: str) -> bool:
    """Whether a RabbitMQ of ``version`` refuses non-durable non-exclusive queues by default (4.3.0 and later)."""
    numbers = [int(part) for part in re.findall(r"\d+", version)[:2]]
    if len(numbers) < 2:
        raise ValueError(f"not a RabbitMQ version: {version!r} (expected e.g. '4.1.4')")
    return (numbers[0], numbers[1]) >= (4, 3)


@dataclass(frozen=True)
class Exchange:
    """A durable exchange of one of the four types."""

    name: str
    type: ExchangeType = "topic"
    durable: bool = True
    arguments: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Queue:
    """A queue: ``classic`` (durable), ``quorum`` (replicated, durable) or ``exclusive`` (this connection only).

    ``dead_letter_exchange``/``dead_letter_routing_key`` say where rejected or expired messages go;
    ``message_ttl`` (seconds) expires messages, which with a dead-letter target makes a delay queue;
    ``delivery_limit`` (quorum only) dead-letters a message redelivered more often than that.
    """

    name: str
    kind: QueueKind = "classic"
    dead_letter_exchange: str | None = None
    dead_letter_routing_key: str | None = None
    message_ttl: float | None = None
    delivery_limit: int | None = None
    arguments: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.delivery_limit is not None and self.kind != "quorum":
            raise ValueError(f"queue {self.name!r}: delivery_limit needs kind='quorum' (classic queues ignore it)")

    def declare_arguments(self) -> dict[str, Any]:
        """The ``x-…`` arguments sent with queue.declare."""
        args: dict[str, Any] = dict(self.arguments)
        if self.kind == "quorum":
            args["x-queue-type"] = "quorum"
        if self.dead_letter_exchange is not None:
            args["x-dead-letter-exchange"] = self.dead_letter_exchange
        if self.dead_letter_routing_key is not None:
            args["x-dead-letter-routing-key"] = self.dead_letter_routing_key
        if self.message_ttl is not None:
            args["x-message-ttl"] = int(self.message_ttl * 1000)
        if self.delivery_limit is not None:
            args["x-delivery-limit"] = self.delivery_limit
        return args


@dataclass(frozen=True)
class Binding:
    """Route messages from ``exchange`` to ``queue`` by ``routing_key`` (topic/direct) or ``arguments`` (headers)."""

    exchange: str
    queue: str
    routing_key: str = ""
    arguments: Mapping[str, Any] = field(default_factory=dict)


def topic_matches(pattern: str, routing_key: str) -> bool:
    """AMQP topic matching: ``*`` is exactly one word, ``#`` is zero or more words."""
    pat = pattern.split(".") if pattern else []
    key = routing_key.split(".") if routing_key else []

    def match(i: int, j: int) -> bool:
        if i == len(pat):
            return j == len(key)
        if pat[i] == "#":
            return any(match(i + 1, k) for k in range(j, len(key) + 1))
        return j < len(key) and pat[i] in ("*", key[j]) and match(i + 1, j + 1)

    return match(0, 0)


def _headers_match(arguments: Mapping[str, Any], headers: Mapping[str, Any]) -> bool:
    mode = arguments.get("x-match", "all")
    wanted = {k: v for k, v in arguments.items() if not k.startswith("x-")}
    hits = [k in headers and (v is None or headers[k] == v) for k, v in wanted.items()]
    return any(hits) if mode in {"any", "any-with-x"} else all(hits)


@dataclass
class Topology:
    """Exchanges, queues and bindings that belong together; declare and delete them as one."""

    exchanges: list[Exchange] = field(default_factory=list)
    queues: list[Queue] = field(default_factory=list)
    bindings: list[Binding] = field(default_factory=list)

    def __add__(self, other: Topology) -> Topology:
        return Topology(self.exchanges + other.exchanges, self.queues + other.queues,
                        self.bindings + other.bindings)

    def exchange(self, name: str) -> Exchange:
        """The exchange called ``name`` in this description."""
        for exchange in self.exchanges:
            if exchange.name == name:
                return exchange
        raise KeyError(f"no exchange {name!r} in this topology; it has {[e.name for e in self.exchanges]}")

    def route(self, exchange: str, routing_key: str, headers: Mapping[str, Any] | None = None) -> set[str]:
        """The queues a message *should* reach according to this description (the broker has the last word)."""
        kind = self.exchange(exchange).type
        reached: set[str] = set()
        for b in self.bindings:
            if b.exchange != exchange:
                continue
            if (kind == "fanout"
                    or (kind == "direct" and b.routing_key == routing_key)
                    or (kind == "topic" and topic_matches(b.routing_key, routing_key))
                    or (kind == "headers" and _headers_match(b.arguments, headers or {}))):
                reached.add(b.queue)
        return reached

    def mermaid(self) -> str:
        """The topology as a Mermaid flowchart: exchanges → (binding key) → queues."""
        lines = ["flowchart LR"]
        ids: dict[str, str] = {}
        for i, e in enumerate(self.exchanges):
            ids["x:" + e.name] = f"x{i}"
            lines.append(f'  x{i}{{{{"{e.name}<br/>({e.type})"}}}}')
        for i, q in enumerate(self.queues):
            ids["q:" + q.name] = f"q{i}"
            lines.append(f'  q{i}[("{q.name}<br/>{q.kind}")]')
        for b in self.bindings:
            if "x:" + b.exchange not in ids or "q:" + b.queue not in ids:
                continue
            label = b.routing_key or ", ".join(f"{k}={v}" for k, v in b.arguments.items()) or "all"
            lines.append(f'  {ids["x:" + b.exchange]} -- "{label}" --> {ids["q:" + b.queue]}')
        return "\n".join(lines)


def _run(conn: RabbitConnection, what: str, action: Any) -> None:
    channel = conn.channel()
    try:
        action(channel)
    except pika.exceptions.ChannelClosedByBroker as exc:
        if exc.reply_code == 406:
            raise TopologyMismatch(
                f"{what} conflicts with what already exists on the broker: {exc.reply_text}. "
                "A declaration cannot change a queue's type or arguments. Declare it exactly as it exists. To "
                "change its TTL, dead-lettering or length limit, set a policy (set_policy(Policy.for_queue(...)), "
                "or `rabbitmqctl set_policy`): the broker applies it to the live queue and keeps its messages. "
                "Deleting the queue to declare it again would throw its messages away; a new queue type needs a "
                "new queue and moving the messages (e.g. Shovel)."
            ) from exc
        if exc.reply_code == 404:
            raise TopologyMismatch(f"{what} refers to something missing: {exc.reply_text}. "
                                   "Declare the exchange and queue before binding them.") from exc
        raise
    finally:
        if channel.is_open:
            channel.close()


def declare_exchange(conn: RabbitConnection, exchange: Exchange) -> None:
    """Declare one exchange (idempotent when the arguments match)."""
    _run(conn, f"exchange {exchange.name!r} ({exchange.type})", lambda ch: ch.exchange_declare(
        exchange.name, exchange_type=exchange.type, durable=exchange.durable, arguments=dict(exchange.arguments)))


def declare_queue(conn: RabbitConnection, queue: Queue) -> None:
    """Declare one queue (idempotent when the arguments match)."""
    exclusive = queue.kind == "exclusive"
    _run(conn, f"queue {queue.name!r} ({queue.kind}, {queue.declare_arguments()})", lambda ch: ch.queue_declare(
        queue.name, durable=not exclusive, exclusive=exclusive, arguments=queue.declare_arguments()))


def declare(conn: RabbitConnection, topology: Topology) -> None:
    """Declare every exchange, queue and binding of ``topology``; ``TopologyMismatch`` explains a conflict."""
    for exchange in topology.exchanges:
        declare_exchange(conn, exchange)
    for queue in topology.queues:
        declare_queue(conn, queue)
    for b in topology.bindings:
        _run(conn, f"binding {b.exchange!r} -> {b.queue!r} ({b.routing_key or dict(b.arguments)})",
             lambda ch, b=b: ch.queue_bind(b.queue, b.exchange, routing_key=b.routing_key,
                                           arguments=dict(b.arguments)))


def delete_topology(conn: RabbitConnection, topology: Topology) -> None:
    """Delete the queues and exchanges of ``topology`` (bindings go with them). Missing ones are fine."""
    for queue in topology.queues:
        ch = conn.channel()
        ch.queue_delete(queue.name)
        ch.close()
    for exchange in topology.exchanges:
        ch = conn.channel()
        ch.exchange_delete(exchange.name)
        ch.close()


def names(items: Iterable[Queue | Exchange]) -> list[str]:
    """The names of some queues or exchanges."""
    return [item.name for item in items]
