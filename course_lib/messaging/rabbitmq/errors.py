"""RabbitMQ errors that say what went wrong and what to do (connection failures: ``connect_errors``)."""

from __future__ import annotations

from course_lib.errors import CourseError
from course_lib.messaging.errors import DestinationNotFound
from course_lib.messaging.rabbitmq.confirms import ConfirmReport


class QueueNotFound(DestinationNotFound):
    """A queue that does not exist (the RabbitMQ twin of Kafka's ``TopicNotFound``)."""

    def __init__(self, queue: str) -> None:
        self.queue = queue
        super().__init__(f"queue {queue!r} does not exist: declare it first (see topology.declare)")


class Unroutable(CourseError):
    """A mandatory message matched no queue and the broker returned it.

    ``report`` (for batches) says which messages of the batch were confirmed and which were returned, so a caller
    can republish just those.
    """

    def __init__(self, exchange: str, routing_keys: list[str], report: ConfirmReport | None = None) -> None:
        self.exchange = exchange
        self.routing_keys = routing_keys
        self.report = report
        shown = ", ".join(sorted(set(routing_keys))[:5])
        super().__init__(
            f"{len(routing_keys)} message(s) to exchange {exchange or '(default)'!r} with routing key(s) [{shown}] "
            "matched no queue and were returned. Bind a queue whose binding key matches (and declare it before "
            "publishing), or publish with mandatory=False if dropping such messages is really acceptable."
        )


class PublishNotConfirmed(CourseError):
    """The broker refused (nack) a message, or did not confirm it in time.

    For batches, ``report`` lists every message of the batch that was not confirmed (by message id and routing
    key, with the reason); the others are safely with the broker.
    """

    def __init__(self, text: str, report: ConfirmReport | None = None) -> None:
        self.report = report
        super().__init__(text)
