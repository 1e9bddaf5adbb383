"""Choreography: a flow with no orchestrator — each participant reacts to the others' events.

Nobody holds the whole picture — which is the point to compare with the orchestrator (the shop's participants,
``course_lib.shop.choreography``, show it):

- **coupling**: each service knows the events of its neighbours (payment listens to inventory, and inventory
  listens to payment — a cycle in the dependency graph);
- **visibility**: "where is order 42?" has no single answer; it is spread over the services (``Trace`` rebuilds it
  from the messages, the way distributed tracing does);
- the flow is only in the subscriptions: adding a step means changing who listens to what.

``ChoreographyOverRabbitMQ`` runs the participants over a real RabbitMQ topic exchange, ``ChoreographyOverKafka``
over one Kafka topic; ``run_in_memory`` runs
the same handlers over a plain in-process queue, for unit tests and explanation. An audit queue bound to ``#``
sees every event on the exchange — the closest a choreography gets to the orchestrator's log.

A message that is not an event the participants can read (another producer's, a damaged one) never stops a run:
it is acknowledged and kept in ``dead_letters`` with the reason, and the flow goes on.
"""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from course_lib.errors import describe_error
from course_lib.messages import Envelope, Event, Message, envelope, from_json
from course_lib.messages import routing_key as routing_key_for
from course_lib.waiting import wait_until

Handler = Callable[[Envelope[Message]], list[Event]]


@dataclass(frozen=True)
class Participant:
    """A service in the choreography: the events it reacts to, the events it may emit, and its handler."""

    name: str
    reacts_to: tuple[type[Event], ...]
    emits: tuple[type[Event], ...]
    handle: Handler


@dataclass(frozen=True)
class Hop:
    """One reaction: ``participant`` received ``received`` and emitted ``emitted``."""

    participant: str
    received: str
    emitted: tuple[str, ...]


@dataclass(frozen=True)
class DeadLetter:
    """A message no participant could read, with the reason, as it arrived."""

    where: str
    body: bytes
    reason: str


def _read(where: str, body: bytes, dead_letters: list[DeadLetter]) -> Envelope[Message] | None:
    """The envelope in ``body``, or None after keeping the body and the reason in ``dead_letters``."""
    try:
        return from_json(body)
    except Exception as exc:  # whatever a foreign body makes the parser raise: a dead letter, not a crash
        dead_letters.append(DeadLetter(where, bytes(body), describe_error(exc)))
        return None


@dataclass
class Trace:
    """The flow as the messages show it — the only place the whole picture exists in a choreography."""

    hops: list[Hop] = field(default_factory=list)

    def types(self) -> list[str]:
        """Every event type received, in order."""
        return [h.received for h in self.hops]


def dependencies(participants: Iterable[Participant]) -> set[tuple[str, str]]:
    """Who depends on whom: (a, b) when a reacts to an event b emits."""
    parts = list(participants)
    return {(a.name, b.name) for a in parts for b in parts if a is not b and set(a.reacts_to) & set(b.emits)}


def cycles(participants: Iterable[Participant]) -> list[tuple[str, str]]:
    """Pairs of participants that depend on each other (the simplest cycles)."""
    deps = dependencies(participants)
    return sorted({tuple(sorted(pair)) for pair in deps if (pair[1], pair[0]) in deps})  # type: ignore[misc]


def dependency_mermaid(participants: Iterable[Participant]) -> str:
    """A Mermaid graph of the event flow between participants: an arrow b → a labelled with the event types."""
    parts = list(participants)
    lines = ["flowchart LR"]
    for p in parts:
        lines.append(f'  {p.name}["{p.name}"]')
    for a in parts:
        for b in parts:
            shared = [t.__name__ for t in a.reacts_to if t in b.emits]
            if a is not b and shared:
                lines.append(f'  {b.name} -- "{", ".join(shared)}" --> {a.name}')
    return "\n".join(lines)


def _route(participants: list[Participant], env: Envelope[Message]) -> list[Participant]:
    return [p for p in participants if isinstance(env.message, p.reacts_to)]


def run_in_memory(participants: list[Participant], first: Event, *, max_hops: int = 1000) -> Trace:
    """Deliver ``first`` and everything it causes through an in-process FIFO queue (no broker)."""
    trace = Trace()
    queue: deque[Envelope[Message]] = deque([envelope(first)])
    while queue:
        env = queue.popleft()
        for p in _route(participants, env):
            out = p.handle(env)
            trace.hops.append(Hop(p.name, env.type, tuple(type(e).type_name() for e in out)))
            queue.extend(env.caused(e) for e in out)
            if len(trace.hops) > max_hops:
                raise RuntimeError(f"more than {max_hops} reactions: the participants loop on each other")
    return trace


class ChoreographyOverRabbitMQ:
    """The participants over a RabbitMQ topic exchange: one exclusive queue each, bound to what it reacts to.

    ``pump`` processes deliveries in the calling thread until a condition holds or a timeout passes (bounded). A
    message is acked only after the events it caused were published and confirmed, so a crash in between means a
    redelivery (which the idempotency keys absorb), never a lost step. ``stop()`` deletes the exchange and queues.
    """

    def __init__(self, participants: list[Participant], exchange: str, url: str | None = None) -> None:
        from course_lib.messaging.rabbitmq import Publisher, RabbitConnection

        self.participants = participants
        self.exchange = exchange
        self.trace = Trace()
        self.redeliveries = 0
        self.dead_letters: list[DeadLetter] = []
        self._conn = RabbitConnection(url, name=f"choreography-{exchange}")
        self._publisher = Publisher(self._conn, exchange)
        self._channel = self._conn.channel()
        self._channel.exchange_declare(exchange, exchange_type="topic", durable=True)
        self._channel.basic_qos(prefetch_count=50)
        self._inbox: list[tuple[Participant, Any, bytes]] = []
        self._queues: list[str] = []
        self._tags: list[str] = []
        self.seen: list[str] = []  # every event type on the exchange, from an audit queue bound to "#"
        for p in participants:
            queue = self._channel.queue_declare("", exclusive=True).method.queue  # exclusive: allowed on 4.x too
            self._queues.append(queue)
            for event_type in p.reacts_to:
                self._channel.queue_bind(queue, exchange, routing_key=routing_key_for(event_type))
            self._tags.append(self._channel.basic_consume(
                queue, lambda _ch, method, _props, body, p=p: self._inbox.append((p, method, body))))
        audit = self._channel.queue_declare("", exclusive=True).method.queue
        self._queues.append(audit)
        self._channel.queue_bind(audit, exchange, routing_key="#")
        self._tags.append(self._channel.basic_consume(
            audit, lambda _ch, _method, props, _body: self.seen.append(str(props.type)), auto_ack=True))

    def publish(self, event: Event | Envelope[Message]) -> Envelope[Message]:
        """Publish an event (the one that starts a flow) to the exchange; returns its envelope."""
        env: Envelope[Message] = event if isinstance(event, Envelope) else envelope(event, ids=uuid.uuid4)
        self._publisher.publish(env)
        return env

    def pump(self, until: Callable[[], bool], *, timeout: float = 10.0) -> Trace:
        """Handle deliveries until ``until()`` is true; ``WaitTimeout`` if it is not within ``timeout`` seconds."""

        def step() -> bool:
            self._conn.process_events(0.05)  # returns as soon as deliveries arrived, or after 50 ms
            batch, self._inbox = self._inbox, []
            for p, method, body in batch:
                env = _read(p.name, body, self.dead_letters)
                if env is None:
                    self._channel.basic_ack(method.delivery_tag)
                    continue
                try:
                    out = p.handle(env)
                except Exception:
                    self.redeliveries += 1
                    self._channel.basic_nack(method.delivery_tag, requeue=True)  # a transient error: try again
                    continue
                for event in out:
                    self._publisher.publish(env.caused(event))
                self._channel.basic_ack(method.delivery_tag)
                self.trace.hops.append(Hop(p.name, env.type, tuple(type(e).type_name() for e in out)))
            return until()

        wait_until(step, timeout=timeout, interval=0.0, what="the choreography to reach its end state")
        return self.trace

    def stop(self) -> None:
        """Delete the queues and the exchange and close the connection."""
        try:
            if self._channel.is_open:
                for tag in self._tags:
                    self._channel.basic_cancel(tag)
                for queue in self._queues:
                    self._channel.queue_delete(queue)
                self._channel.exchange_delete(self.exchange)
                self._channel.close()
            self._publisher.close()
        finally:
            self._conn.close()


class ChoreographyOverKafka:
    """The participants over one Kafka topic: each reads every event and reacts to its own kinds.

    One partition keeps the flow's events in one order for every reader. Each participant has its own reader and
    remembers its position (a consumer group with committed offsets is the production shape; readers without a
    group keep this demo free of group-join delays). A handler that raises is retried: the reader seeks back to
    that record. ``stop()`` closes everything and deletes the topic.
    """

    def __init__(self, participants: list[Participant], topic: str, bootstrap: str | None = None) -> None:
        from course_lib.messaging.kafka.admin import Topics
        from course_lib.messaging.kafka.consumer import TopicReader
        from course_lib.messaging.kafka.producer import Producer

        self.participants = participants
        self.topic = topic
        self.trace = Trace()
        self.seen: list[str] = []
        self.retries = 0
        self.dead_letters: list[DeadLetter] = []  # kept by the audit reader: one per unreadable record
        self._topics = Topics(bootstrap)
        self._topics.create(topic, partitions=1)
        self._producer = Producer(bootstrap, client_id=f"choreography-{topic}")
        self._readers = [(p, TopicReader(topic, bootstrap)) for p in participants]
        self._audit = TopicReader(topic, bootstrap)

    def publish(self, event: Event | Envelope[Message]) -> Envelope[Message]:
        """Publish an event (the one that starts a flow); returns its envelope once the broker has it."""
        env: Envelope[Message] = event if isinstance(event, Envelope) else envelope(event, ids=uuid.uuid4)
        self._producer.send(self.topic, env, key=str(env.metadata.correlation_id))
        self._producer.flush(10)
        return env

    def _step(self) -> None:
        for p, reader in self._readers:
            for record in reader.read(max_messages=100, timeout=0.02):
                env = _read(p.name, record.value, [])  # unreadable: the audit reader keeps the dead letter
                if env is None or not isinstance(env.message, p.reacts_to):
                    continue
                try:
                    out = p.handle(env)
                except Exception:
                    self.retries += 1
                    reader.seek(record.partition, record.offset)  # read it again next round
                    break
                for event in out:
                    self._producer.send(self.topic, env.caused(event), key=str(env.metadata.correlation_id))
                self._producer.flush(10)
                self.trace.hops.append(Hop(p.name, env.type, tuple(type(e).type_name() for e in out)))
        for record in self._audit.read(max_messages=1000, timeout=0.02):
            env = _read(f"{self.topic}[{record.partition}]@{record.offset}", record.value, self.dead_letters)
            if env is not None:
                self.seen.append(env.type)

    def pump(self, until: Callable[[], bool], *, timeout: float = 20.0) -> Trace:
        """Handle records until ``until()`` is true; ``WaitTimeout`` if it is not within ``timeout`` seconds."""

        def step() -> bool:
            self._step()
            return until()

        wait_until(step, timeout=timeout, interval=0.0, what="the choreography to reach its end state")
        return self.trace

    def stop(self) -> None:
        """Close the readers and the producer, delete the topic."""
        try:
            for _, reader in self._readers:
                reader.close()
            self._audit.close()
            self._producer.close()
        finally:
            self._topics.delete(self.topic)
            self._topics.close()
