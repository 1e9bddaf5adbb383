"""Batched publisher confirms arrive out of order: nothing is called confirmed that the broker did not take.

One batch goes to queues that confirm at different speeds — a classic durable queue (after an fsync), a quorum
queue (after a Raft commit), a full ``x-max-length`` queue with ``reject-publish`` (nack at once) and no queue at
all (returned, then acked at once). The early answers for later tags must not end the wait for earlier ones.
Fifty rounds in one test, so a race that loses one round in twenty cannot hide.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import pika
import pytest

from course_lib.clock import SequentialIds
from course_lib.messages import envelope
from course_lib.messaging.rabbitmq import (
    Binding,
    Exchange,
    Publisher,
    PublishNotConfirmed,
    Queue,
    RabbitConnection,
    Topology,
    Unroutable,
    properties_for,
)
from course_lib.messaging.rabbitmq.publisher import env_body
from course_lib.shop.events import OrderCreated

pytestmark = pytest.mark.rabbitmq

ROUNDS = 50
FULL_AT = 3


def _drain_ids(conn: RabbitConnection, queue: str) -> list[str]:
    """Every message id in ``queue`` (taken off it), read with basic.get until it is empty."""
    channel = conn.channel()
    ids: list[str] = []
    while True:
        method, props, _body = channel.basic_get(queue, auto_ack=True)
        if method is None:
            break
        ids.append(props.message_id)
    channel.close()
    return ids


def test_every_confirmed_message_is_in_its_queue_and_every_other_is_reported(
        conn: RabbitConnection, declared: Callable[[Topology], Topology], unique_name: Callable[[str], str]) -> None:
    x = unique_name("confirms")
    queues = {"classic": unique_name("classic"), "quorum": unique_name("quorum"), "full": unique_name("full")}
    declared(Topology(
        [Exchange(x, "direct")],
        [Queue(queues["classic"]), Queue(queues["quorum"], kind="quorum"),
         Queue(queues["full"], arguments={"x-max-length": FULL_AT, "x-overflow": "reject-publish"})],
        [Binding(x, q, key) for key, q in queues.items()]))
    publisher = Publisher(conn, x)
    ids, rng = SequentialIds(), random.Random(19)
    for round_no in range(ROUNDS):
        keys = ["classic"] * 12 + ["quorum"] * 12 + ["full"] * 8 + ["nowhere"] * 3
        rng.shuffle(keys)
        batch = []
        for key in keys:
            env = envelope(OrderCreated(order_id=f"r{round_no}", customer_id="c"), ids=ids)
            batch.append((env_body(env), key, properties_for(env)))
        sent = {props.message_id: key for _body, key, props in batch}
        with pytest.raises((PublishNotConfirmed, Unroutable)) as info:
            publisher.publish_bodies(batch)
        report = info.value.report
        assert report is not None
        confirmed = {m.message_id for m in report.confirmed}
        failed = {f.message_id: f.reason for f in report.failed}
        assert not confirmed & failed.keys() and confirmed | failed.keys() == sent.keys(), f"round {round_no}"
        assert not report.unconfirmed, f"round {round_no}: {report.unconfirmed}"
        assert {m for m, k in sent.items() if k == "nowhere"} == {m for m, r in failed.items() if r == "returned"}
        assert {m for m, r in failed.items() if r == "nacked"} <= {m for m, k in sent.items() if k == "full"}
        in_queues = {key: _drain_ids(conn, q) for key, q in queues.items()}
        assert len(in_queues["full"]) == FULL_AT, f"round {round_no}"
        for key, found in in_queues.items():
            # exactly the confirmed messages of that key are in its queue: none missing, none extra
            assert sorted(found) == sorted(m for m in confirmed if sent[m] == key), f"round {round_no}: {key}"


def test_publish_many_tries_every_batch_and_names_the_messages_to_republish(
        conn: RabbitConnection, declared: Callable[[Topology], Topology], unique_name: Callable[[str], str]) -> None:
    x, q = unique_name("x"), unique_name("q")
    declared(Topology([Exchange(x, "topic")], [Queue(q)], [Binding(x, q, "order.#")]))
    envs = [envelope(OrderCreated(order_id=f"o{i}", customer_id="c")) for i in range(45)]
    items = [(env, "nobody.listens" if i in (3, 30) else "order.created") for i, env in enumerate(envs)]
    with pytest.raises(Unroutable) as info:
        Publisher(conn, x).publish_many(items, batch_size=10)  # the returns are in the first and fourth batches
    report = info.value.report
    assert report is not None
    assert [f.message_id for f in report.returned] == [str(envs[3].message_id), str(envs[30].message_id)]
    assert len(report.confirmed) == 43
    assert sorted(_drain_ids(conn, q)) == sorted(str(m.message_id) for m in report.confirmed)
    # republishing just the failed ones, with a queue bound for them now, completes the set
    declared(Topology([], [], [Binding(x, q, "nobody.#")]))
    republish = [(envs[i], "nobody.listens") for i in (3, 30)]
    assert Publisher(conn, x).publish_many(republish) == 2


def test_a_nacked_batch_names_each_refused_message(
        conn: RabbitConnection, declared: Callable[[Topology], Topology], unique_name: Callable[[str], str]) -> None:
    q = unique_name("small")
    declared(Topology([], [Queue(q, arguments={"x-max-length": 2, "x-overflow": "reject-publish"})], []))
    envs = [envelope(OrderCreated(order_id=f"o{i}", customer_id="c")) for i in range(5)]
    with pytest.raises(PublishNotConfirmed, match=r"did not confirm 3 of 5") as info:
        Publisher(conn).publish_many([(env, q) for env in envs])
    report = info.value.report
    assert report is not None
    assert [f.message_id for f in report.nacked] == [str(e.message_id) for e in envs[2:]]
    assert _drain_ids(conn, q) == [str(e.message_id) for e in envs[:2]]


def test_raw_bodies_without_message_ids_are_still_counted(
        conn: RabbitConnection, declared: Callable[[Topology], Topology], unique_name: Callable[[str], str]) -> None:
    q = unique_name("raw")
    declared(Topology([], [Queue(q)], []))
    props = pika.BasicProperties(delivery_mode=2)
    batch = [(b"x", q, props)] * 20 + [(b"x", unique_name("missing"), props)] * 2
    with pytest.raises(Unroutable) as info:
        Publisher(conn).publish_bodies(batch)
    report = info.value.report
    assert report is not None and len(report.returned) == 2 and len(report.confirmed) == 20
