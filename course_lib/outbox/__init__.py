"""The transactional outbox (``outbox``), its relay (``relay``), the inbox / idempotent consumer (``inbox``),
and the publishers the relay can use (``publishers``)."""

from course_lib.outbox.inbox import PostgresInbox, SQLiteInbox
from course_lib.outbox.outbox import OutboxCounts, OutboxRow, PostgresOutbox, SQLiteOutbox
from course_lib.outbox.publishers import KafkaPublisher, RabbitMQPublisher, RecordingPublisher
from course_lib.outbox.relay import Publisher, Relay, RelayStats, RelayWorker

__all__ = [
    "KafkaPublisher",
    "OutboxCounts",
    "OutboxRow",
    "PostgresInbox",
    "PostgresOutbox",
    "Publisher",
    "RabbitMQPublisher",
    "RecordingPublisher",
    "Relay",
    "RelayStats",
    "RelayWorker",
    "SQLiteInbox",
    "SQLiteOutbox",
]
