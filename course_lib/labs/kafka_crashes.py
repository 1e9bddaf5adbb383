"""Kafka processes killed for real (SIGKILL) at the worst moment, for notebooks 07 and 08.

- ``crash_after_processing``: a group member polls records, "processes" them, and is killed before it commits
  — and before it can send LeaveGroup. The group learns of its death only when its session times out.
- ``crash_before_commit``: a transactional consume → transform → produce processor has written its outputs and put
  its offsets in the transaction, and is killed just before ``commit_transaction()``. Its transform also wrote a
  receipt to a file — an effect outside Kafka, like a database row or an e-mail — which no Kafka transaction
  can take back.

The child side runs as ``python -m course_lib.labs.kafka_crashes consume|transform …``.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from course_lib.messaging.kafka.consumer import GroupConsumer
from course_lib.messaging.kafka.records import Record
from course_lib.messaging.kafka.transactions import Output, Transform
from course_lib.processes import KilledChild, kill_at_marker

PROCESSED = "PROCESSED"
OUTPUTS_WRITTEN = "OUTPUTS-WRITTEN"


def order_lines(sink: str, receipts: str | Path) -> Transform:
    """A transform: each ``OrderItemAdded`` becomes ``sku:cents`` on ``sink``, and a receipt line in ``receipts``.

    The receipt stands for every side effect outside Kafka (a database write, an e-mail): it is written when the
    record is transformed, whether or not the transaction that follows commits.
    """
    path = Path(receipts)

    def transform(record: Record) -> list[Output]:
        item = record.envelope().message
        cents = item.quantity * item.unit_price_cents  # type: ignore[attr-defined]
        with path.open("a") as file:
            file.write(f"{record.partition}:{record.offset}\n")
        return [Output(sink, record.key, f"{item.sku}:{cents}".encode())]  # type: ignore[attr-defined]

    return transform


def receipts_per_input(receipts: str | Path) -> dict[str, int]:
    """How many receipts each input record (``partition:offset``) got: more than one means processed twice."""
    counts: dict[str, int] = {}
    path = Path(receipts)
    if path.exists():
        for line in path.read_text().split():
            counts[line] = counts.get(line, 0) + 1
    return counts


def crash_after_processing(topic: str, group_id: str, *, bootstrap: str, max_messages: int,
                           timeout: float = 60.0) -> list[str]:
    """A member of ``group_id`` processes up to ``max_messages`` records and is killed before committing.

    Returns the values it processed (decoded as text).
    """
    killed = kill_at_marker(__name__, ["consume", bootstrap, topic, group_id, str(max_messages)], PROCESSED,
                            timeout=timeout)
    return list(json.loads(killed.detail))


@dataclass
class Takeover:
    """A new member of a group: how long it waited for a partition, and what it then read."""

    consumer: GroupConsumer
    waited_s: float  # from joining the group to owning a partition
    values: list[str]


def take_over(topic: str, group_id: str, *, bootstrap: str, max_messages: int, timeout: float = 30.0) -> Takeover:
    """Join ``group_id`` as a successor, wait for a partition (timed), and read up to ``max_messages`` records.

    The caller closes ``consumer`` — with or without committing.
    """
    started = time.monotonic()
    consumer = GroupConsumer(topic, group_id, bootstrap, client_id="successor")
    consumer.wait_for_assignment(timeout=timeout)
    waited = time.monotonic() - started
    records = consumer.poll(max_messages=max_messages, timeout=timeout)
    return Takeover(consumer, waited, [r.value.decode() for r in records])


def crash_before_commit(source: str, group_id: str, transactional_id: str, sink: str, receipts: str | Path, *,
                        bootstrap: str, max_messages: int, timeout: float = 60.0) -> KilledChild:
    """A transactional processor transforms one batch, writes its outputs, and is killed before the commit."""
    args = ["transform", bootstrap, source, group_id, transactional_id, sink, str(receipts), str(max_messages)]
    return kill_at_marker(__name__, args, OUTPUTS_WRITTEN, timeout=timeout)


def _wait_to_be_killed() -> None:
    sys.stdin.readline()  # the parent kills us while we wait; EOF (a dead parent) ends us too
    raise SystemExit(3)


def _consume(bootstrap: str, topic: str, group_id: str, max_messages: int) -> None:
    consumer = GroupConsumer(topic, group_id, bootstrap, client_id="crashing-consumer")
    records = consumer.poll(max_messages=max_messages, timeout=30)
    print(f"{PROCESSED} {json.dumps([r.value.decode() for r in records])}", flush=True)
    _wait_to_be_killed()


def _transform(bootstrap: str, source: str, group_id: str, transactional_id: str, sink: str, receipts: str,
               max_messages: int) -> None:
    import course_lib.shop.events  # noqa: F401 — registers the shop's events, so the child can read them
    from course_lib.messaging.kafka.transactions import ExactlyOnceProcessor

    processor = ExactlyOnceProcessor(source, group_id, order_lines(sink, receipts),
                                     transactional_id=transactional_id, bootstrap=bootstrap)

    def announce() -> None:
        print(f"{OUTPUTS_WRITTEN} {len(receipts_per_input(receipts))}", flush=True)
        _wait_to_be_killed()

    processor.process(max_messages=max_messages, timeout=30, before_commit=announce)
    print("NOTHING TO PROCESS", file=sys.stderr, flush=True)  # reached only when the batch was empty
    raise SystemExit(4)


def main(argv: list[str]) -> None:
    """The child side: ``consume BOOTSTRAP TOPIC GROUP MAX`` or ``transform BOOTSTRAP SOURCE GROUP TXN SINK
    RECEIPTS MAX``."""
    command, *args = argv
    if command == "consume":
        _consume(args[0], args[1], args[2], int(args[3]))
    elif command == "transform":
        _transform(args[0], args[1], args[2], args[3], args[4], args[5], int(args[6]))
    else:
        raise SystemExit(f"unknown command {command!r}: use consume or transform")


if __name__ == "__main__":
    main(sys.argv[1:])
