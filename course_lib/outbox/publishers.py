"""Publishers the relay can use: RabbitMQ (confirms + mandatory), Kafka (acks=all, keyed by stream), in-memory.

Each ``publish`` returns only once the broker has the message and raises otherwise — the relay marks a row sent
only after that, which is what makes the outbox at-least-once.
"""

from __future__ import annotations

from typing import Any

from course_lib.messages import Envelope


class RecordingPublisher:
    """Keeps published envelopes in a list; ``fail_next`` makes the next publishes raise (for unit tests)."""

    def __init__(self) -> None:
        self.published: list[Envelope[Any]] = []
        self._failures = 0

    def fail_next(self, times: int = 1) -> None:
        """Make the next ``times`` publishes raise ``ConnectionError``."""
        self._failures += times

    def publish(self, envelope: Envelope[Any]) -> None:
        if self._failures:
            self._failures -= 1
            raise ConnectionError("broker unreachable (injected)")
        self.published.append(envelope)


class RabbitMQPublisher:
    """Publishes to a RabbitMQ exchange with publisher confirms; the routing key comes from the event type."""

    def __init__(self, exchange: str, url: str | None = None, *, name: str = "outbox-relay") -> None:
        from course_lib.messaging.rabbitmq.connection import RabbitConnection
        from course_lib.messaging.rabbitmq.publisher import Publisher

        self.exchange = exchange
        self._conn = RabbitConnection(url, name=name)
        self._publisher = Publisher(self._conn, exchange)

    def publish(self, envelope: Envelope[Any]) -> None:
        """Publish and wait for the broker's confirm (raises ``Unroutable`` / ``PublishNotConfirmed``)."""
        self._publisher.publish(envelope)

    def close(self) -> None:
        self._publisher.close()
        self._conn.close()


class KafkaPublisher:
    """Produces to a Kafka topic keyed by stream id (one stream → one partition → its order kept)."""

    def __init__(self, topic: str, bootstrap: str | None = None, *, timeout: float = 10.0) -> None:
        from course_lib.messaging.kafka.producer import Producer

        self.topic = topic
        self.timeout = timeout
        self._producer = Producer(bootstrap, client_id="outbox-relay")

    def publish(self, envelope: Envelope[Any]) -> None:
        """Send and wait for the broker's acknowledgement (raises on failure)."""
        self._producer.send(self.topic, envelope).get(timeout=self.timeout)

    def close(self) -> None:
        self._producer.close()
