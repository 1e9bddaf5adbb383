"""RabbitMQ: course_lib's publisher and consumer vs. raw pika doing the same work, side by side.

Every case sends or receives 200-byte persistent messages through a durable queue on the local broker, with the
same AMQP properties (message id, type, correlation id, persistent, JSON content type). Raw pika is the floor:
course_lib can only add work (building properties from an envelope, checking returns, bounded-consume
bookkeeping). Publishing timings include waiting for confirms; consuming timings include the acks.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import pika

from benchmarks.runner import Case, Group, Measurement, timed
from course_lib.clock import FixedStepClock, SequentialIds
from course_lib.config import get_settings
from course_lib.messages import Envelope, envelope
from course_lib.messaging.rabbitmq import Publisher, RabbitConnection, consume, properties_for
from course_lib.shop.events import OrderCreated

BODY = b'{"pad":"' + b"x" * 190 + b'"}'  # exactly 200 bytes
assert len(BODY) == 200


def _envelopes(n: int) -> list[Envelope[Any]]:
    clock, ids = FixedStepClock(), SequentialIds()
    return [envelope(OrderCreated(order_id=f"o{i}", customer_id="c"), clock=clock, ids=ids) for i in range(n)]


def _raw_properties(env: Envelope[Any]) -> pika.BasicProperties:
    meta = env.metadata
    return pika.BasicProperties(content_type="application/json", delivery_mode=2, message_id=str(meta.message_id),
                                type=meta.type, correlation_id=str(meta.correlation_id),
                                timestamp=int(meta.occurred_at.timestamp()), headers={"x-schema-version": 1})


def _fresh_queue(channel: Any) -> str:
    """A new durable queue for one run (deleted by ``_delete`` at the end of the run)."""
    name = f"bench-rabbitmq-{uuid.uuid4().hex[:8]}"
    channel.queue_declare(name, durable=True)
    return name


def _delete(channel: Any, queue: str) -> None:
    channel.queue_delete(queue)


# ---- publish, one confirm per message ------------------------------------------------------------------------
def _n_each(quick: bool) -> int:
    return 50 if quick else 3000


def _raw_publish_each(quick: bool) -> Measurement:
    envs = _envelopes(_n_each(quick))
    connection = pika.BlockingConnection(pika.URLParameters(get_settings().rabbitmq_url))
    channel = connection.channel()
    queue = _fresh_queue(channel)
    channel.confirm_delivery()

    def work() -> int:
        for env in envs:
            channel.basic_publish("", queue, BODY, _raw_properties(env), mandatory=True)
        return len(envs)

    result = timed(work)
    _delete(channel, queue)
    connection.close()
    return result


def _course_publish_each(quick: bool) -> Measurement:
    envs = _envelopes(_n_each(quick))
    conn = RabbitConnection(name="bench")
    admin = conn.channel()
    queue = _fresh_queue(admin)
    publisher = Publisher(conn)
    publisher.publish_body(BODY, queue, properties_for(envs[0]))  # its channel opened before the timing, as in raw

    def work() -> int:
        for env in envs:
            publisher.publish_body(BODY, queue, properties_for(env))
        return len(envs)

    result = timed(work)
    _delete(admin, queue)
    conn.close()
    return result


# ---- publish, confirms awaited once per batch of 100 --------------------------------------------------------------
def _n_batch(quick: bool) -> int:
    return 500 if quick else 30000


def _raw_publish_batched(quick: bool) -> Measurement:
    envs = _envelopes(_n_batch(quick))
    connection = pika.BlockingConnection(pika.URLParameters(get_settings().rabbitmq_url))
    channel = connection.channel()
    queue = _fresh_queue(channel)
    impl = channel._impl
    outstanding: set[int] = set()  # confirms can arrive out of order: count per delivery tag, not the highest tag
    state = {"returned": 0, "nacked": 0, "next_tag": 1}

    def on_confirm(frame: Any) -> None:
        method = frame.method
        settled = {t for t in outstanding if t <= method.delivery_tag} if method.multiple else {method.delivery_tag}
        outstanding.difference_update(settled)
        if isinstance(method, pika.spec.Basic.Nack):
            state["nacked"] += len(settled)
        if not outstanding:
            connection.add_callback_threadsafe(lambda: None)  # end the wait below as soon as all are confirmed

    impl.add_on_return_callback(lambda *_: state.__setitem__("returned", state["returned"] + 1))
    impl.confirm_delivery(ack_nack_callback=on_confirm)
    connection.process_data_events(time_limit=0.05)

    def work() -> int:
        sent = 0
        for start in range(0, len(envs), 100):
            for env in envs[start:start + 100]:
                impl.basic_publish("", queue, BODY, _raw_properties(env), mandatory=True)
                outstanding.add(state["next_tag"])
                state["next_tag"] += 1
                sent += 1
            while outstanding:
                connection.process_data_events(time_limit=0.05)
        assert state["returned"] == 0 and state["nacked"] == 0
        return sent

    result = timed(work)
    connection.channel().queue_delete(queue)
    connection.close()
    return result


def _course_publish_batched(quick: bool) -> Measurement:
    envs = _envelopes(_n_batch(quick))
    conn = RabbitConnection(name="bench")
    admin = conn.channel()
    queue = _fresh_queue(admin)
    publisher = Publisher(conn)
    # like the raw case's channel and confirm mode, the publisher's confirm channel is opened before the timing
    publisher.publish_bodies([(BODY, queue, properties_for(envs[0]))])

    def work() -> int:
        sent = 0
        for start in range(0, len(envs), 100):
            sent += publisher.publish_bodies([(BODY, queue, properties_for(env)) for env in envs[start:start + 100]])
        return sent

    result = timed(work)
    _delete(admin, queue)
    conn.close()
    return result


# ---- consume with acks ---------------------------------------------------------------------------------------
def _fill(n: int) -> str:
    """A new durable queue holding ``n`` messages (filled before the timing starts)."""
    conn = RabbitConnection(name="bench-fill")
    queue = _fresh_queue(conn.channel())
    publisher = Publisher(conn)
    envs = _envelopes(n)
    for start in range(0, n, 500):
        publisher.publish_bodies([(BODY, queue, properties_for(env)) for env in envs[start:start + 500]])
    conn.close()
    return queue


def _n_consume(quick: bool, prefetch: int) -> int:
    if prefetch == 1:
        return 150 if quick else 10000
    return 500 if quick else 40000


def _raw_consume(prefetch: int) -> Any:
    def run(quick: bool) -> Measurement:
        n = _n_consume(quick, prefetch)
        queue = _fill(n)
        connection = pika.BlockingConnection(pika.URLParameters(get_settings().rabbitmq_url))
        channel = connection.channel()
        channel.basic_qos(prefetch_count=prefetch)

        def work() -> int:
            got = 0
            deadline = time.monotonic() + 120
            for method, _props, _body in channel.consume(queue, inactivity_timeout=1):
                if method is not None:
                    channel.basic_ack(method.delivery_tag)
                    got += 1
                if got >= n or time.monotonic() > deadline:
                    break
            channel.cancel()
            return got

        result = timed(work)
        _delete(channel, queue)
        connection.close()
        return result

    return run


def _course_consume(prefetch: int) -> Any:
    def run(quick: bool) -> Measurement:
        n = _n_consume(quick, prefetch)
        queue = _fill(n)
        conn = RabbitConnection(name="bench")
        conn.ensure_open()
        result = timed(lambda: len(consume(conn, queue, max_messages=n, timeout=120, prefetch=prefetch,
                                           decode_envelopes=False)))
        _delete(conn.channel(), queue)
        conn.close()
        return result

    return run


NOTES = ("200-byte persistent messages, durable classic queue, local broker. course_lib builds the AMQP properties "
         "from the envelope and checks for returned messages; raw pika gets the same properties prebuilt per message.")

GROUPS = [
    Group("rabbitmq.publish_confirm_each", "messages",
          [Case("raw pika", _raw_publish_each), Case("course_lib", _course_publish_each)],
          baseline="raw pika", target=0.9, notes=NOTES + " One confirm awaited per message."),
    Group("rabbitmq.publish_confirm_batched", "messages",
          [Case("raw pika", _raw_publish_batched), Case("course_lib", _course_publish_batched)],
          baseline="raw pika", target=0.9, notes=NOTES + " Confirms awaited once per 100 messages."),
    Group("rabbitmq.consume_prefetch_1", "messages",
          [Case("raw pika", _raw_consume(1)), Case("course_lib", _course_consume(1))],
          baseline="raw pika", target=0.9, notes=NOTES + " prefetch=1, one ack per message."),
    Group("rabbitmq.consume_prefetch_100", "messages",
          [Case("raw pika", _raw_consume(100)), Case("course_lib", _course_consume(100))],
          baseline="raw pika", target=0.9, notes=NOTES + " prefetch=100, one ack per message."),
]
