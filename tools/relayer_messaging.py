"""The renames of issue 16 inside ``course_lib.messaging`` (old path -> new path), for the re-layering script.

Keys and values are module paths or ``module.symbol`` paths. Apply the longest matching key first: a symbol that
moved out of a module wins over a rename of the module it came from. Not listed because nothing replaces them:
``course_lib.messaging.rabbitmq.wire.body_preview`` (unused, deleted) and the module-level patch of
``pika.data.decode_value`` (now ``course_lib.messaging.rabbitmq.frames``, installed per connection by ``connect``).
Kafka's ``GroupWorker`` counters moved into ``worker.stats`` (a ``WorkerStats``): ``worker.processed`` is now
``worker.stats.processed``, likewise ``dead_lettered``, ``commits``, ``commit_failures`` and ``recent``; and
``GroupConsumer.assignment()`` is now a property, ``consumer.assignment``. Those are attribute accesses, not
imports, so the script cannot rewrite them; every use in the repository is already updated.
"""

from __future__ import annotations

MOVES_MESSAGING: dict[str, str] = {
    # Kafka's connect lives in connection.py, like RabbitMQ's
    "course_lib.messaging.kafka.errors.connect": "course_lib.messaging.kafka.connection.connect",
    "course_lib.messaging.kafka.errors.FIX": "course_lib.messaging.kafka.connection.FIX",
    # the headers both brokers share (the Kafka constant's value changed from "causation_id" to "x-causation-id")
    "course_lib.messaging.kafka.records.HEADER_CAUSATION_ID": "course_lib.messaging.headers.CAUSATION_ID",
    # RabbitMQ's errors in errors.py, like Kafka's
    "course_lib.messaging.rabbitmq.consumer.QueueNotFound": "course_lib.messaging.rabbitmq.errors.QueueNotFound",
    "course_lib.messaging.rabbitmq.publisher.Unroutable": "course_lib.messaging.rabbitmq.errors.Unroutable",
    "course_lib.messaging.rabbitmq.publisher.PublishNotConfirmed":
        "course_lib.messaging.rabbitmq.errors.PublishNotConfirmed",
    # RabbitMQ's broker-state module named like Kafka's
    "course_lib.messaging.rabbitmq.management": "course_lib.messaging.rabbitmq.admin",
    # one stats type for both workers
    "course_lib.messaging.rabbitmq.worker.WorkerStats": "course_lib.messaging.workers.WorkerStats",
    # demo processes out of the adapters
    "course_lib.messaging.rabbitmq.idempotent": "course_lib.labs.ledger",
    "course_lib.messaging.kafka.crashdemo": "course_lib.labs.kafka_crashes",
}
