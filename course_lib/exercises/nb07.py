"""Notebook 07's exercises: a raw poll → process → commit loop, a loop that commits too early, a record key that
keeps each order in order, and consumer lag.

- ``poll_process_commit(consumer, process, *, max_records, deadline_s)``: the learner's kafka-python loop with
  manual commits. The check runs it on the broker (:class:`LoopLab`, one partition, each run a fresh consumer of
  one group): processing crashes on a record, then a restart — nothing may be lost; a clean run must commit exactly
  what it processed (not the position after records it polled and did not process, not the offset of the last
  record instead of the next); and it must stop at ``max_records`` and at its deadline.
- ``charge_payments`` (find the bug): a loop that commits what it polled before processing it; the check replays
  the crash and counts what the restart processed.

- ``key_for(event)`` gets an event dict (``order_id``, ``customer_id``, ``type``, ``sku``…) and returns the record
  key. Kafka keeps order only within a partition, and a key always maps to the same partition: all events of one
  order must share a key, and different orders should get different keys so the load spreads.
- ``lag(committed, log_start, end)`` gets {partition: committed offset} (partitions with no commit are missing),
  {partition: log-start offset} (the first record still stored) and {partition: high-water mark}; it returns
  {partition: records the group still has to read} for every partition in ``end``. A group with no commit on a
  partition starts where ``auto_offset_reset`` says — the course uses ``earliest``: the log start, which is not 0
  once retention has deleted old records.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from typing import Any

from course_lib.exercises import Check, CheckResult, Hints, exercise, not_attempted, solved, wrong

KEY_HINTS = Hints(
    concept="Kafka keeps order only within one partition, and a record's key decides its partition: the same key "
            "always lands on the same partition.",
    approach="Ask which events must be processed in the order they happened relative to each other, and which are "
             "independent. Key by the field that groups exactly the first kind — nothing coarser (it would pile "
             "independent work onto one partition), nothing finer (it would split what must stay in order).",
    skeleton="def key_for(event):\n    return str(event[...])  # which field?",
)
LAG_HINTS = Hints(
    concept="Lag is how many records a consumer group has not processed yet. A committed offset is the next "
            "record the group will read; the high-water mark is one past the last record it can read.",
    approach="Answer for every partition that has a high-water mark, also those where the group never committed. "
             "Without a commit, a group reading from 'earliest' starts at the first record still stored, which "
             "retention may have moved past offset 0.",
    skeleton="def lag(committed, log_start, end):\n    return {partition: ... for partition, high in end.items()}",
)

_EVENTS = [
    {"type": "OrderCreated", "order_id": "o1", "customer_id": "alice"},
    {"type": "OrderCreated", "order_id": "o2", "customer_id": "alice"},
    {"type": "OrderItemAdded", "order_id": "o1", "customer_id": "alice", "sku": "mug"},
    {"type": "OrderItemAdded", "order_id": "o2", "customer_id": "alice", "sku": "tee"},
    {"type": "OrderCreated", "order_id": "o3", "customer_id": "bob"},
    {"type": "OrderPaid", "order_id": "o1", "customer_id": "alice"},
    {"type": "OrderItemAdded", "order_id": "o3", "customer_id": "bob", "sku": "mug"},
    {"type": "OrderShipped", "order_id": "o1", "customer_id": "alice"},
]


@exercise("nb07.key_for", title="a record key that keeps each order in order", level="★", minutes=5,
          hints=KEY_HINTS)
def check_key_for(key_for: Callable[[dict[str, Any]], Any] | None) -> CheckResult:
    """Same order → same key; different orders → different keys."""
    if key_for is None:
        return not_attempted("write key_for(event) that returns the record key")
    if not callable(key_for):
        return wrong(f"key_for must be a function, got {type(key_for).__name__}")
    keys = [key_for(dict(event)) for event in _EVENTS]
    if any(not isinstance(k, str | bytes) for k in keys):
        return wrong(f"keys must be str (or bytes); got {keys!r}")
    by_order: dict[str, set[Any]] = {}
    for event, key in zip(_EVENTS, keys, strict=True):
        by_order.setdefault(event["order_id"], set()).add(key)
    split = [order for order, ks in by_order.items() if len(ks) > 1]
    if split:
        return wrong(f"events of order {split[0]} got different keys {sorted(map(str, by_order[split[0]]))}: they "
                     f"could land on different partitions and be processed out of order")
    distinct = {next(iter(ks)) for ks in by_order.values()}
    if len(distinct) < len(by_order):
        return wrong(f"{len(by_order)} orders share only {len(distinct)} key(s): alice's two orders are "
                     f"independent, yet one key sends them all to one partition (one consumer does all the work)")
    return solved("every order keeps one key (its events stay in order) and orders spread over partitions")


@exercise("nb07.lag", title="consumer lag per partition", level="★", minutes=8, hints=LAG_HINTS)
def check_lag(lag: Callable[[dict[int, int], dict[int, int], dict[int, int]], dict[int, int]] | None) -> CheckResult:
    """Lag per partition = high-water mark − where the group resumes (its commit, else the log start)."""
    if lag is None:
        return not_attempted("write lag(committed, log_start, end) returning {partition: lag}")
    if not callable(lag):
        return wrong(f"lag must be a function, got {type(lag).__name__}")
    cases = [
        ({0: 5, 1: 3}, {0: 0, 1: 0}, {0: 5, 1: 7}, {0: 0, 1: 4}),
        ({1: 2}, {0: 0, 1: 0, 2: 0}, {0: 4, 1: 2, 2: 9}, {0: 4, 1: 0, 2: 9}),
        ({}, {0: 0}, {0: 0}, {0: 0}),
        ({0: 8}, {0: 3, 1: 6}, {0: 10, 1: 10}, {0: 2, 1: 4}),  # retention deleted offsets 0-5 of partition 1
    ]
    for committed, log_start, end, expected in cases:
        got = lag(dict(committed), dict(log_start), dict(end))
        if got == expected:
            continue
        from_zero = {p: end[p] - committed.get(p, 0) for p in end}
        if got == from_zero:
            return wrong(f"lag({committed}, {log_start}, {end}) returned {got!r}: a partition without a commit was "
                         "counted from offset 0, but the records before the log start no longer exist")
        return wrong(f"lag({committed}, {log_start}, {end}) returned {got!r}: not the distance from where the "
                     "group resumes to the high-water mark for every partition")
    return solved("lag is the high-water mark minus where the group resumes: its commit, or the log start")




# ---------------------------------------------------------------------------------------------------------------
# The raw kafka-python loop: poll → process → commit, checked on the broker with an injected crash.

LOOP_HINTS = Hints(
    concept="A committed offset is the group's promise 'everything before this is done'. With "
            "enable_auto_commit=False nothing is committed unless you commit, and a restart resumes at the last "
            "commit: commit too early and a crash loses records; commit a position past what you processed and "
            "those records are skipped; never commit and everything is processed again.",
    approach="Loop until max_records are processed or the deadline passes. Each poll is bounded: a timeout, and "
             "no more records than you still may process. Process every record the poll returned, then commit — "
             "the offset to commit for a partition is the one after the last record you processed there.",
    skeleton="def poll_process_commit(consumer, process, *, max_records, deadline_s):\n"
             "    deadline = time.monotonic() + deadline_s\n    done = 0\n    while ...:\n"
             "        batch = consumer.poll(timeout_ms=..., max_records=...)\n"
             "        for partition, records in batch.items():\n            ...\n        ...  # commit\n"
             "    return done",
)

FIX_HINTS = Hints(
    concept="Whatever the group has committed, a restart skips. If the commit goes out before the work is done, "
            "a crash in between loses exactly the records that were committed and not yet processed.",
    approach="Read the loop in the order it runs on a crash in the middle of a batch: which offsets does the "
             "group hold at that moment, and where does the next consumer start? Move the commit so that it "
             "covers only records whose processing has finished.",
    skeleton="while ...:\n    batch = consumer.poll(...)\n    for records in batch.values():\n        for record in "
             "records:\n            ...\n    ...  # and only now",
)


class CrashInTheWork(RuntimeError):
    """The failure the check injects into processing."""


class PollDeadline(RuntimeError):
    """Raised by the check's consumer when the learner's loop keeps polling long after its deadline."""


class BoundedConsumer:
    """The learner's ``KafkaConsumer``, except that ``poll`` refuses to run past a hard deadline (so a loop that
    forgets its deadline ends instead of hanging) and each poll's arguments are recorded."""

    def __init__(self, consumer: Any, hard_deadline: float) -> None:
        self._consumer = consumer
        self._hard_deadline = hard_deadline
        self.polls: list[dict[str, Any]] = []

    def poll(self, timeout_ms: int = 0, max_records: int | None = None, **kwargs: Any) -> Any:
        import time

        if time.monotonic() > self._hard_deadline:
            raise PollDeadline("still polling long after the deadline")
        self.polls.append({"timeout_ms": timeout_ms, "max_records": max_records})
        return self._consumer.poll(timeout_ms=min(timeout_ms, 2000), max_records=max_records, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._consumer, name)


class LoopLab:
    """One topic with one partition and one group on the real broker, for running a learner's loop.

    Each :meth:`run` is a fresh ``KafkaConsumer`` of the same group, assigned the partition (no group join, so
    no rebalance wait), closed afterwards *without* committing — like a process that stops."""

    def __init__(self, bootstrap: str | None = None) -> None:
        from course_lib.messaging.kafka import Topics
        from course_lib.messaging.kafka.settings import bootstrap_or_default

        suffix = uuid.uuid4().hex[:8]
        self.bootstrap = bootstrap_or_default(bootstrap)
        self.topic, self.group = f"nb07-loop-{suffix}", f"nb07-loop-group-{suffix}"
        self.topics = Topics(self.bootstrap)
        self.topics.create(self.topic, partitions=1)
        self.values: list[str] = []

    def produce(self, count: int) -> None:
        """Append ``count`` records ``r<n>`` (numbered on from the last)."""
        from kafka import KafkaProducer

        producer = KafkaProducer(bootstrap_servers=self.bootstrap, acks="all")
        try:
            for _ in range(count):
                value = f"r{len(self.values)}"
                producer.send(self.topic, value.encode()).get(timeout=10)
                self.values.append(value)
        finally:
            producer.close()

    def committed(self) -> int | None:
        """The group's committed offset on the partition (None: nothing committed)."""
        return self.topics.group_offsets(self.group).get(self.topic, {}).get(0)

    def run(self, loop: Any, process: Callable[[str], None], *, max_records: int,
            deadline_s: float) -> tuple[Any, BaseException | None, BoundedConsumer]:
        """Run ``loop(consumer, process_record, max_records=…, deadline_s=…)``; return its result or exception."""
        import time

        from kafka import KafkaConsumer, TopicPartition

        from course_lib.messaging.kafka.settings import CONSUMER_DEFAULTS

        consumer = KafkaConsumer(bootstrap_servers=self.bootstrap, group_id=self.group, **CONSUMER_DEFAULTS)
        consumer.assign([TopicPartition(self.topic, 0)])
        bounded = BoundedConsumer(consumer, time.monotonic() + deadline_s + 10)
        try:
            return loop(bounded, lambda record: process(record.value.decode()), max_records=max_records,
                        deadline_s=deadline_s), None, bounded
        except Exception as exc:  # the injected crash, or the learner's own error
            return None, exc, bounded
        finally:
            consumer.close(autocommit=False)

    def close(self) -> None:
        """Delete the group and the topic."""
        with contextlib.suppress(Exception):
            self.topics.delete_group(self.group)
        with contextlib.suppress(Exception):
            self.topics.delete(self.topic)
        self.topics.close()


def crash_and_restart(loop: Any, lab: LoopLab) -> tuple[list[str], list[str], int | None, BaseException | None]:
    """Six records; processing crashes on r2; the consumer stops; a fresh one of the group carries on.

    Returns what the first run processed, what the second processed, the group's committed offset after the
    crash, and what the first run raised."""
    lab.produce(6)
    first: list[str] = []

    def crashing(value: str) -> None:
        if value == "r2":
            raise CrashInTheWork("the process died while processing r2")
        first.append(value)

    _result, error, _ = lab.run(loop, crashing, max_records=6, deadline_s=5)
    after_crash = lab.committed()
    second: list[str] = []
    lab.run(loop, second.append, max_records=10, deadline_s=2)
    return first, second, after_crash, error


def _judge_crash(first: list[str], second: list[str], after_crash: int | None,
                 error: BaseException | None) -> CheckResult | None:
    if isinstance(error, PollDeadline):
        return wrong("the loop kept polling more than 10 s after its deadline")
    if not first and not second:
        return wrong("no record reached process(record): does the loop call it for every polled record?")
    if after_crash is not None and after_crash > 2:
        return wrong(f"processing crashed on r2 (offset 2), yet the group had already committed offset "
                     f"{after_crash}: the next consumer resumed after it, and r2 was never processed — lost")
    lost = [v for v in ("r0", "r1", "r2", "r3", "r4", "r5") if v not in first + second]
    if lost:
        return wrong(f"after the crash and a restart, {lost} were never processed")
    return None


@exercise("nb07.poll_loop", title="a poll → process → commit loop with manual commits", level="★★★", minutes=25,
          hints=LOOP_HINTS)
def check_poll_loop(poll_process_commit: Any, bootstrap: str | None = None) -> CheckResult:
    """On the broker: a crash loses nothing, a clean run commits exactly what it processed, the bounds hold."""
    if poll_process_commit is None:
        return not_attempted("write poll_process_commit(consumer, process, *, max_records, deadline_s)")
    if not callable(poll_process_commit):
        return wrong(f"poll_process_commit must be a function, got {type(poll_process_commit).__name__}")
    lab = LoopLab(bootstrap)
    try:
        first, second, after_crash, error = crash_and_restart(poll_process_commit, lab)
        verdict = _judge_crash(first, second, after_crash, error)
        if verdict is not None:
            return verdict
        committed = lab.committed()
        if committed is None:
            return wrong("after a run that processed every record, the group has no committed offset: a restart "
                         "would process all of them again")
        if committed != 6:
            return wrong(f"after a run that processed all 6 records (offsets 0-5), the group's committed offset is "
                         f"{committed}: a restart would resume there, not after the last processed record")
        lab.produce(4)  # r6..r9
        third: list[str] = []
        result, error, bounded = lab.run(poll_process_commit, third.append, max_records=2, deadline_s=5)
        if isinstance(error, PollDeadline):
            return wrong("with max_records=2 the loop kept polling more than 10 s after its deadline")
        if error is not None:
            return wrong(f"your loop raised {type(error).__name__}: {error}")
        if third != ["r6", "r7"] or result != 2:
            return wrong(f"with max_records=2 it processed {third} and returned {result!r}")
        if lab.committed() != 8:
            return wrong(f"it processed r6 and r7 (offsets 6, 7), and the group committed {lab.committed()}: a "
                         "restart would resume there — records it polled but never processed would be skipped")
        if any(poll["timeout_ms"] in (None, 0) or poll["timeout_ms"] > 5000 for poll in bounded.polls):
            return wrong("give every poll a timeout (timeout_ms) of at most a few seconds, so the loop can check "
                         "its deadline")
        fourth: list[str] = []
        result, error, _ = lab.run(poll_process_commit, fourth.append, max_records=5, deadline_s=1)
        if isinstance(error, PollDeadline):
            return wrong("with 2 records left, max_records=5 and deadline_s=1 the loop was still polling 10 s later:"
                         " it must stop at its deadline")
        if fourth != ["r8", "r9"] or result != 2:
            return wrong(f"with 2 records left it processed {fourth} and returned {result!r}")
    finally:
        lab.close()
    return solved("nothing lost to a crash, each run committed exactly what it processed, and it stopped at "
                  "max_records and at its deadline")


@exercise("nb07.commit_order", title="repair a loop that commits before processing", level="★", minutes=8,
          hints=FIX_HINTS)
def check_commit_order(charge_payments: Any, bootstrap: str | None = None) -> CheckResult:
    """The failure injection of the notebook: a crash while processing, a restart, and every record counted."""
    if charge_payments is None:
        return not_attempted("repair charge_payments and assign it")
    if not callable(charge_payments):
        return wrong(f"charge_payments must be a function, got {type(charge_payments).__name__}")
    lab = LoopLab(bootstrap)
    try:
        verdict = _judge_crash(*crash_and_restart(charge_payments, lab))
        if verdict is not None:
            return verdict
        if lab.committed() != 6:
            return wrong(f"after the restart processed everything, the group's committed offset is "
                         f"{lab.committed()}, not 6: the next restart would process records again")
    finally:
        lab.close()
    return solved("the crash on r2 lost nothing: the restart resumed at a record that was not yet processed")


FIND_THE_BUG = ("check_commit_order",)


CHECKS: dict[str, Check] = {"key_for": check_key_for, "lag": check_lag, "poll_loop": check_poll_loop,
                             "commit_order": check_commit_order}

# checks that run the learner's code on a real broker: the test fixture that provides it (tests skip them
# locally when the service is down, and fail in CI)
NEEDS: dict[str, str] = {"poll_loop": "kafka_bootstrap", "commit_order": "kafka_bootstrap"}
