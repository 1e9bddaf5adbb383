"""RabbitMQ with pika: connections that fail fast, topology as data, confirmed publishing, bounded and
background consuming, retries through delay queues, dead-letter queues and queue depths.

    from course_lib.messaging.rabbitmq import RabbitConnection, Topology, Exchange, Queue, Binding, declare
"""

from course_lib.messaging.rabbitmq.admin import (
    QueueDepth,
    broker_version,
    close_connection,
    management_depth,
    passive_depth,
    queue_depth,
)
from course_lib.messaging.rabbitmq.confirms import ConfirmReport, FailedMessage
from course_lib.messaging.rabbitmq.connection import RabbitConnection, connect, connection_parameters
from course_lib.messaging.rabbitmq.consumer import consume, drain
from course_lib.messaging.rabbitmq.errors import PublishNotConfirmed, QueueNotFound, Unroutable
from course_lib.messaging.rabbitmq.policies import Policy, clear_policy, set_policy
from course_lib.messaging.rabbitmq.publisher import Publisher
from course_lib.messaging.rabbitmq.retry import (
    RetryPolicy,
    attempt_number,
    dead_letter_queue,
    quorum_with_delivery_limit,
    retry_topology,
)
from course_lib.messaging.rabbitmq.topology import (
    Binding,
    Exchange,
    Queue,
    Topology,
    TopologyMismatch,
    declare,
    delete_topology,
    refuses_transient_nonexclusive_queues,
    topic_matches,
)
from course_lib.messaging.rabbitmq.wire import Delivery, decode, properties_for, x_death_count
from course_lib.messaging.rabbitmq.worker import Worker
from course_lib.messaging.workers import WorkerStats

__all__ = [
    "Binding", "ConfirmReport", "Delivery", "Exchange", "FailedMessage", "Policy", "PublishNotConfirmed", "Publisher",
    "Queue", "QueueDepth", "QueueNotFound", "RabbitConnection", "RetryPolicy", "Topology", "TopologyMismatch",
    "Unroutable", "Worker", "WorkerStats", "attempt_number", "broker_version", "clear_policy", "close_connection",
    "connect", "connection_parameters", "consume", "dead_letter_queue", "declare", "decode", "delete_topology",
    "drain", "management_depth", "passive_depth", "properties_for", "queue_depth", "quorum_with_delivery_limit",
    "refuses_transient_nonexclusive_queues", "retry_topology", "set_policy", "topic_matches", "x_death_count",
]
