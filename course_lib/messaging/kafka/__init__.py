"""Kafka for the course: keyed JSON envelopes, bounded reads, group workers, lag, dead letters, transactions.

Settings default to values that work on Apache Kafka *and* on the embedded Tansu broker (see ``settings``).
"""

from course_lib.messaging.kafka.admin import LagInTime, PartitionLag, TopicInfo, Topics
from course_lib.messaging.kafka.consumer import GroupConsumer, TopicReader, read_topic
from course_lib.messaging.kafka.deadletter import dead_letter_headers
from course_lib.messaging.kafka.errors import DeliveryFailed, FailedRecord, TopicNotFound
from course_lib.messaging.kafka.producer import Producer, envelope_headers
from course_lib.messaging.kafka.records import Record
from course_lib.messaging.kafka.transactions import (
    ExactlyOnceProcessor,
    Output,
    ProducerFenced,
    TransactionalProducer,
)
from course_lib.messaging.kafka.windowed import WindowedJob, results_table
from course_lib.messaging.kafka.worker import GroupWorker
from course_lib.messaging.workers import WorkerStats

__all__ = [
    "DeliveryFailed", "ExactlyOnceProcessor", "FailedRecord", "GroupConsumer", "GroupWorker", "LagInTime", "Output",
    "PartitionLag", "Producer", "ProducerFenced", "Record", "TopicInfo", "TopicNotFound", "TopicReader", "Topics",
    "TransactionalProducer", "WindowedJob", "WorkerStats", "dead_letter_headers", "envelope_headers", "read_topic",
    "results_table",
]
