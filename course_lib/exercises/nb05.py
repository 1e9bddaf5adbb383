"""Notebook 05's exercises: the raw pika client first (a confirmed publisher, a consumer with prefetch and manual
acks, both checked on the broker), then bindings for the inventory service.

``raw_publisher``: ``publish_confirmed(channel, exchange, routing_key, bodies)``. The check publishes to a fresh
queue and reads what arrived (all of it, persistent), then publishes to an exchange that does not exist and to a
key no queue receives: both must raise — they only do with confirms on and ``mandatory`` set.

``raw_consumer``: ``consume_with_acks(channel, queue, handle, *, prefetch, max_messages, time_limit)``. The check
runs it in a thread on a fresh queue three times: a crash injected into the work (the crashed message must still
be on the broker afterwards, and every handled one acked), 12 messages with prefetch 3 and max 8 (the unacked
count, sampled on the broker from each handle call, never above 3; exactly 8 handled), and a nearly empty queue
(it must return at its time limit). A consumer still running long after its limit is stopped by having the broker
close its connection.

``inventory_bindings``: bind the inventory service's queue so it receives exactly the events it needs.

Inventory reserves stock when items are added, releases it when items are removed, when an order is cancelled,
and when a payment is declined — and wants nothing else from the ``shop`` topic exchange. The learner answers
with a list of binding keys. The check routes every shop event's key through them: offline with the AMQP topic
rules (``topic_matches``), or on the real broker when given a connection.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Callable
from typing import Any

import pika
import pika.exceptions

from course_lib.exercises import Check, CheckResult, Hints, exercise, not_attempted, solved, wrong
from course_lib.messages import envelope, routing_key
from course_lib.messaging.rabbitmq import (
    Binding,
    Exchange,
    Publisher,
    Queue,
    RabbitConnection,
    Topology,
    close_connection,
    consume,
    declare,
    delete_topology,
    topic_matches,
)
from course_lib.shop.events import ALL_EVENTS
from course_lib.waiting import wait_until

WANTED = frozenset({"order.item.added", "order.item.removed", "order.cancelled", "payment.declined"})
ALL_KEYS = tuple(routing_key(event) for event in ALL_EVENTS)
HINTS = Hints(
    concept="A topic exchange compares each message's routing key with the queue's binding keys, word by word "
            "(words are separated by dots): `*` stands for exactly one word, `#` for any number of words, also "
            "none. A queue gets a message when any one of its bindings matches.",
    approach="Write down the four routing keys inventory needs. Look for the narrowest pattern that covers "
             "several of them and nothing else the shop sends; a key that shares no such pattern is bound exactly. "
             "A pattern broader than needed floods inventory with events it must then ignore.",
    skeleton="inventory_keys = [\"<one pattern for the events that share their first words>\", "
             "\"<an exact key>\", \"<an exact key>\"]",
)


def _received_offline(keys: list[str]) -> set[str]:
    return {key for key in ALL_KEYS if any(topic_matches(pattern, key) for pattern in keys)}


def _received_on_broker(keys: list[str], conn: RabbitConnection) -> set[str]:
    suffix = uuid.uuid4().hex[:8]
    exchange, queue = f"nb05-check-{suffix}", f"nb05-check-{suffix}"
    topology = Topology([Exchange(exchange, "topic")], [Queue(queue)], [Binding(exchange, queue, k) for k in keys])
    declare(conn, topology)
    try:
        publisher = Publisher(conn, exchange, mandatory=False)
        for event in ALL_EVENTS:
            data = {name: (1 if field.annotation is int else "x") for name, field in event.model_fields.items()}
            publisher.publish(envelope(event(**data)), routing_key(event))
        return {d.routing_key for d in consume(conn, queue, max_messages=len(ALL_EVENTS), timeout=3, idle=0.5)}
    finally:
        delete_topology(conn, topology)


@exercise("nb05.inventory_bindings", title="bind a queue to exactly the events a service needs", level="★",
          minutes=8, hints=HINTS)
def check_inventory_bindings(keys: Any, conn: RabbitConnection | None = None) -> CheckResult:
    """Do these binding keys deliver exactly the inventory service's events? (``conn``: test on the broker)."""
    if keys is None:
        return not_attempted("set `inventory_keys` to a list of binding keys")
    if isinstance(keys, str):
        keys = [keys]
    if not isinstance(keys, list | tuple | set) or not all(isinstance(k, str) for k in keys):
        return wrong(f"expected a list of strings, got {keys!r}")
    keys = [k.strip() for k in keys]
    got = _received_on_broker(keys, conn) if conn is not None else _received_offline(keys)
    missing, extra = sorted(WANTED - got), sorted(got - WANTED)
    where = "on the broker" if conn is not None else "by the topic rules"
    if not missing and not extra:
        return solved(f"{keys} deliver exactly {sorted(WANTED)} ({where})")
    parts = []
    if missing:
        parts.append(f"missing {missing}")
    if extra:
        parts.append(f"also receives {extra}")
    return wrong(f"your bindings ({where}): " + "; ".join(parts))




# ---------------------------------------------------------------------------------------------------------------
# The raw client: a confirmed publisher and a consumer with prefetch and manual acks, checked on the broker.

PUBLISHER_HINTS = Hints(
    concept="Without publisher confirms, basic_publish only writes to a socket: the broker may refuse or drop "
            "the message and the publisher never hears of it. In confirm mode the broker answers every publish, "
            "and pika's BlockingChannel then raises when the answer is bad. `mandatory` asks the broker to return "
            "a message that no queue receives instead of dropping it.",
    approach="Switch the channel to confirm mode once, before the first publish. Then publish each body so that "
             "it survives a broker restart (a persistent delivery mode) and is returned if nothing receives it. "
             "Do not catch the errors: the caller must see them.",
    skeleton="def publish_confirmed(channel, exchange, routing_key, bodies):\n    channel.<turn confirms on>()\n"
             "    for body in bodies:\n        channel.basic_publish(exchange, routing_key, body,\n"
             "                              properties=pika.BasicProperties(...), mandatory=...)",
)

CONSUMER_HINTS = Hints(
    concept="With manual acks a message stays the broker's responsibility until your ack: if the consumer dies "
            "first, the broker delivers it again. Prefetch (basic_qos) caps how many unacked messages the broker "
            "hands one consumer at a time, and it applies to consumers started after it is set.",
    approach="Set the prefetch, then register a callback with basic_consume (acks stay manual). The callback does "
             "the work and only then acks. Drive the connection yourself in a loop with a short time limit per "
             "call, and stop at max_messages or at the deadline; a message beyond max_messages is left unacked "
             "(the broker takes it back). Cancel the consumer before you return.",
    skeleton="def consume_with_acks(channel, queue, handle, *, prefetch, max_messages, time_limit):\n"
             "    channel.basic_qos(...)\n    handled = 0\n\n    def on_message(ch, method, properties, body):\n"
             "        nonlocal handled\n        ...  # over the limit? work, then answer the broker\n\n"
             "    tag = channel.basic_consume(queue, on_message)\n    deadline = time.monotonic() + time_limit\n"
             "    while ...:\n        channel.connection.process_data_events(time_limit=0.1)\n"
             "    channel.basic_cancel(tag)\n    return handled",
)


def _url() -> str:
    from course_lib.config import get_settings

    return get_settings().rabbitmq_url


def _connect(name: str) -> pika.BlockingConnection:
    parameters = pika.URLParameters(_url())
    parameters.client_properties = {"connection_name": name}
    return pika.BlockingConnection(parameters)


class _Outcome:
    """What a learner's function did when run in a thread: its result, the exception it raised, or still running."""

    def __init__(self) -> None:
        self.result: Any = None
        self.error: BaseException | None = None
        self.finished = False


def run_bounded(function: Callable[[], Any], *, connection_name: str, within: float) -> _Outcome:
    """Run ``function`` in a thread; if it is still running after ``within`` seconds, have the broker close its
    connection (``connection_name``), which ends the pika calls it is blocked in, and report it unfinished."""
    outcome = _Outcome()

    def target() -> None:
        try:
            outcome.result = function()
        except BaseException as exc:  # the learner's code (or an injected crash) may raise anything
            outcome.error = exc
        finally:
            outcome.finished = True

    thread = threading.Thread(target=target, name=f"check-{connection_name}", daemon=True)
    thread.start()
    thread.join(within)
    if thread.is_alive():
        outcome.finished = False
        with contextlib.suppress(Exception):
            close_connection(connection_name, reason="the check stopped a consumer that kept running")
        thread.join(10)
        outcome.finished = False
    return outcome


def _declare_queue(channel: Any, queue: str, bodies: list[bytes]) -> None:
    channel.queue_declare(queue, exclusive=False, durable=True, arguments={"x-expires": 120_000})
    channel.confirm_delivery()
    for body in bodies:
        channel.basic_publish("", queue, body)


def _drain(channel: Any, queue: str) -> list[bytes]:
    left: list[bytes] = []
    while True:
        method, _props, body = channel.basic_get(queue, auto_ack=True)
        if method is None:
            return left
        left.append(body)


@exercise("nb05.raw_publisher", title="a raw pika publisher with confirms", level="★★", minutes=12,
          hints=PUBLISHER_HINTS)
def check_raw_publisher(publish_confirmed: Any) -> CheckResult:
    """On the broker: every body arrives persistent; a missing exchange and an unroutable key both raise."""
    if publish_confirmed is None:
        return not_attempted("write publish_confirmed(channel, exchange, routing_key, bodies) and assign it")
    if not callable(publish_confirmed):
        return wrong(f"publish_confirmed must be a function, got {type(publish_confirmed).__name__}")
    suffix = uuid.uuid4().hex[:8]
    queue = f"nb05-raw-publisher-{suffix}"
    connection = _connect(f"nb05-check-publisher-{suffix}")
    try:
        admin = connection.channel()
        _declare_queue(admin, queue, [])
        bodies = [f"payment-{i}".encode() for i in range(1, 6)]
        publish_confirmed(connection.channel(), "", queue, bodies)
        with contextlib.suppress(Exception):  # without confirms, give late messages a moment to arrive
            wait_until(lambda: admin.queue_declare(queue, passive=True).method.message_count >= len(bodies),
                       timeout=3, what="the messages")
        arrived: list[tuple[bytes, int | None]] = []
        while True:
            method, props, body = admin.basic_get(queue, auto_ack=True)
            if method is None:
                break
            arrived.append((body, props.delivery_mode))
        if [body for body, _ in arrived] != bodies:
            return wrong(f"published {[b.decode() for b in bodies]}, the queue received "
                         f"{[b.decode() for b, _ in arrived]}")
        if any(mode != 2 for _, mode in arrived):
            return wrong("the messages arrived, but not persistent: a broker restart would lose them from a durable "
                         "queue")
        missing_exchange = f"nb05-no-such-exchange-{suffix}"
        try:
            publish_confirmed(connection.channel(), missing_exchange, "payment", [b"payment-6"])
        except pika.exceptions.AMQPError:
            pass
        else:
            return wrong(f"publishing to exchange {missing_exchange!r}, which does not exist, returned without an "
                         "error: the broker refused the message and the publisher never heard")
        try:
            publish_confirmed(connection.channel(), "", f"nb05-no-such-queue-{suffix}", [b"payment-7"])
        except pika.exceptions.AMQPError:
            pass
        else:
            return wrong("a message that no queue receives was published without an error: the broker dropped "
                         "it and nobody knows")
        admin.queue_delete(queue)
    finally:
        with contextlib.suppress(Exception):  # a channel the broker closed can leave pika's connection confused
            connection.close()
    return solved("every message arrived persistent; a refused message and an unroutable one both raised")


@exercise("nb05.raw_consumer", title="a raw pika consumer: prefetch, manual acks, bounded", level="★★★",
          minutes=25, hints=CONSUMER_HINTS)
def check_raw_consumer(consume_with_acks: Any) -> CheckResult:
    """On the broker: a crash in the work leaves the message there; prefetch holds; max and time limit stop it."""
    if consume_with_acks is None:
        return not_attempted("write consume_with_acks(channel, queue, handle, *, prefetch, max_messages, "
                             "time_limit) and assign it")
    if not callable(consume_with_acks):
        return wrong(f"consume_with_acks must be a function, got {type(consume_with_acks).__name__}")
    for run in (_crash_in_the_work, _prefetch_and_max, _time_limit):
        verdict = run(consume_with_acks)
        if verdict is not None:
            return verdict
    return solved("a crash in the work left the message with the broker; never more unacked than the prefetch; "
                  "stopped at max_messages and at the time limit")


def _run_learner(consume_with_acks: Any, bodies: list[bytes], handle: Callable[[bytes], None], *, prefetch: int,
                 max_messages: int, time_limit: float) -> tuple[_Outcome, list[bytes], int]:
    """Run the learner's consumer on a fresh queue holding ``bodies``; then close its channel like a crash.

    Returns its outcome, what the broker still holds afterwards, and how many messages it had handed out
    unacked at most (sampled in ``handle``)."""
    suffix = uuid.uuid4().hex[:8]
    queue, name = f"nb05-raw-consumer-{suffix}", f"nb05-check-consumer-{suffix}"
    observer = _connect(f"nb05-check-observer-{suffix}")
    learner = _connect(name)
    try:
        admin = observer.channel()
        _declare_queue(admin, queue, bodies)
        handled = [0]
        most_unacked = [0]

        def sampling_handle(body: bytes) -> None:
            ready = admin.queue_declare(queue, passive=True).method.message_count
            most_unacked[0] = max(most_unacked[0], len(bodies) - ready - handled[0])
            handle(body)
            handled[0] += 1

        channel = learner.channel()
        outcome = run_bounded(lambda: consume_with_acks(channel, queue, sampling_handle, prefetch=prefetch,
                                                        max_messages=max_messages, time_limit=time_limit),
                              connection_name=name, within=time_limit + 15)
        if learner.is_open:
            with contextlib.suppress(Exception):
                learner.close()  # the crash: every unacked message goes back to the queue
        left = _drain(admin, queue)
        admin.queue_delete(queue)
        return outcome, left, most_unacked[0]
    finally:
        for connection in (learner, observer):
            if connection.is_open:
                with contextlib.suppress(Exception):
                    connection.close()


class CrashInTheWork(RuntimeError):
    """The failure the check injects into the work."""


def _crash_in_the_work(consume_with_acks: Any) -> CheckResult | None:
    bodies = [f"order-{i}".encode() for i in range(1, 7)]
    done: list[bytes] = []

    def handle(body: bytes) -> None:
        if body == b"order-3":
            raise CrashInTheWork("the process died while handling order-3")
        done.append(body)

    outcome, left, _ = _run_learner(consume_with_acks, bodies, handle, prefetch=2, max_messages=6, time_limit=5)
    if not outcome.finished:
        return wrong("with a crash in the work, your consumer was still running 15 s after its time limit")
    if not done:
        return wrong("no message reached handle(body): does your callback call it?")
    if b"order-3" not in left:
        return wrong("the work crashed on order-3, and afterwards the broker no longer had it: it was acked "
                     "before the work finished (or in spite of the failure) — lost")
    handled_but_kept = sorted(b.decode() for b in set(done) & set(left))
    if handled_but_kept:
        return wrong(f"{handled_but_kept} were handled, yet the broker still had them after the consumer stopped: "
                     "they were never acked and will be handled again")
    return None


def _prefetch_and_max(consume_with_acks: Any) -> CheckResult | None:
    bodies = [f"order-{i}".encode() for i in range(1, 13)]
    done: list[bytes] = []
    outcome, left, most_unacked = _run_learner(consume_with_acks, bodies, done.append, prefetch=3, max_messages=8,
                                               time_limit=20)
    if not outcome.finished:
        return wrong("with 12 messages and max_messages=8 your consumer was still running 15 s after its time limit")
    if outcome.error is not None:
        return wrong(f"your consumer raised {type(outcome.error).__name__}: {outcome.error}")
    if most_unacked > 3:
        return wrong(f"with prefetch=3, the broker had {most_unacked} messages out to your consumer, unacked, at "
                     "one time: the limit did not apply to this consumer")
    if len(done) != 8:
        return wrong(f"with max_messages=8, handle(body) ran {len(done)} times")
    if outcome.result != 8:
        return wrong(f"it handled 8 messages and returned {outcome.result!r}")
    if sorted(left) != sorted(set(bodies) - set(done)):
        return wrong(f"after it stopped the broker held {len(left)} messages, expected the {12 - len(done)} "
                     "it never handled")
    return None


def _time_limit(consume_with_acks: Any) -> CheckResult | None:
    done: list[bytes] = []
    outcome, _left, _ = _run_learner(consume_with_acks, [b"order-1"], done.append, prefetch=5, max_messages=5,
                                     time_limit=1)
    if not outcome.finished:
        return wrong("on a queue holding 1 message, with max_messages=5 and time_limit=1, your consumer was still "
                     "waiting 15 s later: it must also stop at the deadline")
    if outcome.error is not None:
        return wrong(f"your consumer raised {type(outcome.error).__name__}: {outcome.error}")
    if done != [b"order-1"] or outcome.result != 1:
        return wrong(f"on a queue holding 1 message it handled {len(done)} and returned {outcome.result!r}")
    return None


CHECKS: dict[str, Check] = {"inventory_bindings": check_inventory_bindings, "raw_publisher": check_raw_publisher,
                             "raw_consumer": check_raw_consumer}

# checks that run the learner's code on a real broker: the test fixture that provides it (tests skip them
# locally when the service is down, and fail in CI)
NEEDS: dict[str, str] = {"raw_publisher": "rabbitmq_url", "raw_consumer": "rabbitmq_url"}
