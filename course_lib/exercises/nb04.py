"""Notebook 04's exercise: write a projection for a new read model — units ordered per SKU.

The learner completes a ``Projection`` subclass whose table ``sku_units(sku, units)`` holds, for each SKU, the
units currently in orders: ``OrderItemAdded`` adds its quantity, ``OrderItemRemoved`` takes the whole line away
again (the event names only the SKU, so the projection must remember each order's lines itself).

The check runs the learner's class for real: a projector builds it from a known history in a temporary SQLite
read-model store, rebuilds it, and compares the rows with the right answer. One order adds the same SKU twice and
then removes it: a lines table written with ``INSERT OR REPLACE`` keeps only the last quantity and leaves units
behind after the removal.

``project_batch`` (find the bug) is one step of a projector: apply a batch of events to the read model and move the
checkpoint past it. The given version commits the rows and the checkpoint in two transactions. The lab
(:func:`crash_and_restart`) runs it as a projector does, batch after batch, injects a crash between the batch's
rows and its checkpoint — whichever comes second — then restarts from the stored checkpoint and counts how often
each event reached the read model: exactly once is right; twice (rows committed, checkpoint not) and never
(checkpoint committed, rows not) are the two ways a split commit goes wrong.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from course_lib.eventstore.memory import InMemoryEventStore
from course_lib.exercises import Check, CheckResult, Hints, exercise, not_attempted, solved, wrong
from course_lib.messages import Envelope, Message
from course_lib.projections.projector import Projection, Projector
from course_lib.projections.readmodels import SQLiteReadModels, Tx
from course_lib.shop.events import OrderCreated, OrderItemAdded, OrderItemRemoved, OrderSubmitted

HINTS = Hints(
    concept="A projection is a fold kept in tables: each event updates the rows it affects, in the same "
            "transaction as the checkpoint. To undo something later, the projection must have remembered it, "
            "because the undoing event carries less than the original.",
    approach="Keep two tables: the answer (units per SKU) and your own memory of every order's lines. An added "
             "item adds to its line and to its SKU — a second add of the same SKU in the same order adds, it does "
             "not overwrite. A removal looks its line up, takes exactly that many units off the SKU, and forgets "
             "the line. List both tables in `tables` so a rebuild starts from empty.",
    skeleton="def on_OrderItemAdded(self, tx, e, env):\n    tx.execute('INSERT INTO sku_units_lines ... ON CONFLICT "
             "... DO UPDATE SET ...', (...))\n    tx.execute('... sku_units ...', (...))\n\n"
             "def on_OrderItemRemoved(self, tx, e, env):\n    line = tx.execute('SELECT ... FROM sku_units_lines "
             "WHERE ...', (...)).fetchone()\n    if line is None:\n        return\n    ...  # forget the line, "
             "take its units off the SKU",
)


def _history() -> InMemoryEventStore:
    store = InMemoryEventStore()
    store.append("order-a", [
        OrderCreated(order_id="a", customer_id="ada"),
        OrderItemAdded(order_id="a", sku="mug", quantity=2, unit_price_cents=1250),
        OrderItemAdded(order_id="a", sku="tea", quantity=5, unit_price_cents=400),
        OrderItemAdded(order_id="a", sku="mug", quantity=1, unit_price_cents=1250),
        OrderSubmitted(order_id="a", total_cents=5750),
    ])
    store.append("order-b", [
        OrderCreated(order_id="b", customer_id="grace"),
        OrderItemAdded(order_id="b", sku="mug", quantity=4, unit_price_cents=1250),
        OrderItemAdded(order_id="b", sku="poster", quantity=1, unit_price_cents=900),
        OrderItemRemoved(order_id="b", sku="mug"),
    ])
    store.append("order-c", [
        OrderCreated(order_id="c", customer_id="linus"),
        OrderItemAdded(order_id="c", sku="mug", quantity=2, unit_price_cents=1250),
        OrderItemAdded(order_id="c", sku="mug", quantity=1, unit_price_cents=1250),
        OrderItemAdded(order_id="c", sku="tea", quantity=1, unit_price_cents=400),
        OrderItemRemoved(order_id="c", sku="mug"),
    ])
    return store


EXPECTED: dict[str, int] = {"mug": 3, "tea": 6, "poster": 1}
"""Units per SKU after the check's history: order b's 4 mugs and order c's 2 + 1 mugs were removed again."""


AFTER_REBUILD: dict[str, int] = {"mug": 3, "tea": 1, "poster": 1}
"""After the rebuild, order a removes its tea line: one tea (order c's) is left."""


def _rows(read_models: SQLiteReadModels) -> dict[str, int]:
    return {sku: units for sku, units in read_models.query("SELECT sku, units FROM sku_units") if units != 0}


def _diagnosis(got: dict[str, int]) -> str:
    """What the rows say about the mistake — in terms of the history, not of the code."""
    text = f"sku_units shows {got}, expected {EXPECTED}"
    if got.get("mug", 0) > EXPECTED["mug"]:
        return text + (": units of a removed line are still counted (order b adds 4 mugs and removes them; order c "
                       "adds 2 mugs, then 1 more, then removes the mug line)")
    if got.get("mug", 0) < EXPECTED["mug"]:
        return text + ": a removal took away more than the line held — mugs of another order went with it"
    return text


@exercise("nb04.sku_units", title="a projection with update and delete cases", level="★★★", minutes=25,
          hints=HINTS)
def check_sku_units(answer: Any) -> CheckResult:
    """Is ``answer`` a Projection class that keeps ``sku_units`` right, through removals and a rebuild?"""
    if answer is None:
        return not_attempted("set `answer = SkuUnits` once your projection class is written.")
    if not (isinstance(answer, type) and issubclass(answer, Projection)):
        return wrong(f"answer should be your Projection subclass itself (the class, no parentheses), got {answer!r}")
    if "sku_units" not in getattr(answer, "tables", ()):
        return wrong("the class's `tables` must list 'sku_units' (and every helper table), so a rebuild empties them")
    store = _history()
    with tempfile.TemporaryDirectory() as tmp:
        read_models = SQLiteReadModels(Path(tmp) / "check.db")
        try:
            projector = Projector(store, read_models, answer(), batch_size=3)
            projector.catch_up(progress=False)
            got = _rows(read_models)
            if got != EXPECTED:
                return wrong(_diagnosis(got))
            projector.rebuild(progress=False)
            rebuilt = _rows(read_models)
            if rebuilt != EXPECTED:
                return wrong(f"after a rebuild sku_units shows {rebuilt}: the rebuild did not start from empty — "
                             "something your projection remembers survived reset()")
            store.append("order-a", [OrderItemRemoved(order_id="a", sku="tea")])  # a line that lived through it
            projector.catch_up(progress=False)
            after = _rows(read_models)
            if after != AFTER_REBUILD:
                return wrong(f"after the rebuild, order a removed its 5 teas and sku_units shows {after}, expected "
                             f"{AFTER_REBUILD}: a line your projection remembers was counted twice by the rebuild "
                             "— something survived reset()")
        finally:
            read_models.close()
    return solved(f"sku_units is {EXPECTED} through removals, a second add of the same SKU and a rebuild, and a "
                  "removal after the rebuild takes exactly its line away")


# --------------------------------------------------------------------- find the bug: a checkpoint committed apart

SPLIT_HINTS = Hints(
    concept="A checkpoint is a claim: every event up to here is in the read model. A crash can fall between any "
            "two commits, so the claim must never persist without the rows it speaks of, nor the rows without "
            "the claim.",
    approach="Count the commits project_batch makes per batch. For each gap between two of them ask: if the "
             "process dies here, where does the restart resume, and what does it find already in the read model? "
             "Arrange the function so that no such gap is left: the batch's rows and its checkpoint persist "
             "together or not at all.",
    skeleton="def project_batch(read_models, projection, batch):\n    last = batch[-1].metadata.position\n"
             "    with read_models.transaction() as tx:  # how many of these does one batch need?\n"
             "        ...  # the batch's events\n        ...  # how far the read model now is",
)

BATCH_SIZE = 4
CRASH_BATCH = 2
"""The lab projects in batches of 4 and crashes once, in the second batch (events 5-8)."""


class CrashBetweenWrites(Exception):
    """Stands for the process dying between a batch's read-model rows and its checkpoint."""


class _Watch:
    """Follows one batch's two writes and, when armed, crashes once between them (whichever comes second)."""

    def __init__(self) -> None:
        self.armed = False
        self.fired = False
        self.rows = False
        self.checkpoint = False

    def begin(self, *, armed: bool) -> None:
        self.armed, self.rows, self.checkpoint = armed and not self.fired, False, False

    def rows_written(self) -> None:
        if self.checkpoint:
            self._crash("after its checkpoint, before its rows")
        self.rows = True

    def checkpoint_written(self) -> None:
        if self.rows:
            self._crash("after its rows, before its checkpoint")
        self.checkpoint = True

    def _crash(self, where: str) -> None:
        if self.armed and not self.fired:
            self.fired = True
            raise CrashBetweenWrites(f"the process died in batch {CRASH_BATCH}, {where}")


class _WatchedTx:
    """A read-model transaction that tells the watch when the checkpoint is written."""

    def __init__(self, tx: Tx, watch: _Watch) -> None:
        self._tx = tx
        self._watch = watch

    def set_checkpoint(self, name: str, position: int) -> None:
        self._watch.checkpoint_written()
        self._tx.set_checkpoint(name, position)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tx, name)


class _WatchedReadModels:
    """The read-model store the learner's ``project_batch`` gets: the real one, its transactions watched."""

    def __init__(self, read_models: SQLiteReadModels, watch: _Watch) -> None:
        self._read_models = read_models
        self._watch = watch
        self.dialect = read_models.dialect

    @contextmanager
    def transaction(self) -> Iterator[_WatchedTx]:
        with self._read_models.transaction() as tx:
            yield _WatchedTx(tx, self._watch)

    def checkpoint(self, name: str) -> int:
        return self._read_models.checkpoint(name)

    def query(self, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return self._read_models.query(statement, params)


class UnitsAdded(Projection):
    """Units put into orders per SKU, and — so the lab can count — how many times each event was applied."""

    name: ClassVar[str] = "units_added"
    tables: ClassVar[tuple[str, ...]] = ("units_added", "units_added_applied")

    def __init__(self, watch: _Watch | None = None) -> None:
        self.watch = watch

    def setup(self, tx: Tx) -> None:
        tx.execute("CREATE TABLE IF NOT EXISTS units_added (sku TEXT PRIMARY KEY, units INTEGER NOT NULL)")
        tx.execute("CREATE TABLE IF NOT EXISTS units_added_applied (position INTEGER PRIMARY KEY, "
                   "times INTEGER NOT NULL)")

    def apply(self, tx: Tx, env: Envelope[Message]) -> None:
        if self.watch is not None:
            self.watch.rows_written()
        super().apply(tx, env)
        tx.execute("INSERT INTO units_added_applied (position, times) VALUES (?, 1) ON CONFLICT (position) "
                   "DO UPDATE SET times = units_added_applied.times + 1", (env.metadata.position,))

    def on_OrderItemAdded(self, tx: Tx, e: OrderItemAdded, env: Envelope[Message]) -> None:
        tx.execute("INSERT INTO units_added (sku, units) VALUES (?, ?) ON CONFLICT (sku) "
                   "DO UPDATE SET units = units_added.units + excluded.units", (e.sku, e.quantity))


def _units_from_scratch(store: InMemoryEventStore) -> dict[str, int]:
    units: dict[str, int] = {}
    for env in store.read_all(1, limit=10_000):
        if isinstance(env.message, OrderItemAdded):
            units[env.message.sku] = units.get(env.message.sku, 0) + env.message.quantity
    return dict(sorted(units.items()))


def _project(project_batch: Callable[..., Any], store: InMemoryEventStore, read_models: SQLiteReadModels,
             watch: _Watch, *, crash_batch: int | None) -> None:
    """One projector run: from the stored checkpoint to the head, in batches, through ``project_batch``."""
    projection = UnitsAdded(watch)
    with read_models.transaction() as tx:
        projection.setup(tx)
        tx.ensure_checkpoint(projection.name)
    events = store.read_all(read_models.checkpoint(projection.name) + 1, limit=10_000)
    watched = _WatchedReadModels(read_models, watch)
    for number, first in enumerate(range(0, len(events), BATCH_SIZE), start=1):
        watch.begin(armed=number == crash_batch)
        project_batch(watched, projection, events[first:first + BATCH_SIZE])


@dataclass
class SplitRun:
    """What the lab saw: the crash, the checkpoint it left, and how often each event reached the read model."""

    fired: bool
    crash: BaseException | None
    checkpoint_at_crash: int
    checkpoint: int
    head: int
    times: dict[int, int] = field(default_factory=dict)
    units: dict[str, int] = field(default_factory=dict)
    expected_units: dict[str, int] = field(default_factory=dict)

    @property
    def twice(self) -> list[int]:
        """Events applied more than once."""
        return sorted(position for position, times in self.times.items() if times > 1)

    @property
    def lost(self) -> list[int]:
        """Events never applied."""
        return [position for position in range(1, self.head + 1) if position not in self.times]

    def report(self) -> str:
        """The run in a few lines, for the notebook."""
        first = (CRASH_BATCH - 1) * BATCH_SIZE + 1
        crash = (f"{type(self.crash).__name__}: {self.crash}" if self.crash is not None
                 else "fired, but caught inside project_batch" if self.fired else "never fired")
        return "\n".join([
            f"crash injected in batch {CRASH_BATCH} (events {first}-{first + BATCH_SIZE - 1}): {crash}",
            f"checkpoint after the crash: {self.checkpoint_at_crash}; the restart resumed at event "
            f"{self.checkpoint_at_crash + 1} and ended at checkpoint {self.checkpoint} (head {self.head})",
            f"events applied twice: {self.twice}   events never applied: {self.lost}",
            f"units per SKU: {self.units}   built from scratch: {self.expected_units}",
        ])


def crash_and_restart(project_batch: Callable[..., Any]) -> SplitRun:
    """Project a 14-event history through ``project_batch`` with a crash in batch 2, restart, count every event."""
    store = _history()
    with tempfile.TemporaryDirectory() as tmp:
        read_models = SQLiteReadModels(Path(tmp) / "split.db")
        try:
            watch = _Watch()
            crash: BaseException | None = None
            try:
                _project(project_batch, store, read_models, watch, crash_batch=CRASH_BATCH)
            except CrashBetweenWrites as exc:  # the injected crash: the process is gone
                crash = exc
            at_crash = read_models.checkpoint(UnitsAdded.name)
            _project(project_batch, store, read_models, _Watch(), crash_batch=None)  # the restart
            times = dict(read_models.query("SELECT position, times FROM units_added_applied"))
            units = dict(read_models.query("SELECT sku, units FROM units_added ORDER BY sku"))
            return SplitRun(watch.fired, crash, at_crash, read_models.checkpoint(UnitsAdded.name),
                            store.last_position(), times, units, _units_from_scratch(store))
        finally:
            read_models.close()


def _events(positions: list[int]) -> str:
    """``event 5``, ``events 5-8`` or ``events 2, 5``."""
    if len(positions) == 1:
        return f"event {positions[0]}"
    if positions == list(range(positions[0], positions[-1] + 1)):
        return f"events {positions[0]}-{positions[-1]}"
    return "events " + ", ".join(map(str, positions))


def _outcome(run: SplitRun) -> str | None:
    """What the restart got wrong, in terms of events and the checkpoint, or None."""
    if run.crash is not None:
        resumed = (f"the checkpoint after the crash was {run.checkpoint_at_crash}, so the restart resumed at event "
                   f"{run.checkpoint_at_crash + 1}")
    else:
        resumed = f"the first run went on to checkpoint {run.checkpoint_at_crash}; after a restart"
    compared = f"units per SKU {run.units}, built from scratch {run.expected_units}"
    if run.twice:
        return (f"{resumed}, {_events(run.twice)} had been applied twice ({compared}): rows were committed, but "
                "the checkpoint that says so was not")
    if run.lost:
        return (f"{resumed}, {_events(run.lost)} had never been applied ({compared}): a checkpoint was committed "
                "ahead of rows that were not")
    if run.checkpoint != run.head:
        return (f"every event was applied once, but the checkpoint ended at {run.checkpoint}, not at the last "
                f"event's position {run.head}: the next restart would resume at the wrong place")
    return None


@exercise("nb04.split_checkpoint", title="repair a projector that commits its checkpoint apart from the read model",
          level="★★", minutes=10, hints=SPLIT_HINTS)
def check_split_checkpoint(project_batch: Any) -> CheckResult:
    """The notebook's failure injection: a crash between a batch's rows and its checkpoint, then a restart."""
    if project_batch is None:
        return not_attempted("repair project_batch in the cell above, then set `repaired = project_batch`")
    if not callable(project_batch):
        return wrong(f"repaired should be your project_batch function itself, got {type(project_batch).__name__}")
    run = crash_and_restart(project_batch)
    if not run.fired:
        return wrong("the injected crash never fired: it strikes between a batch's rows and its checkpoint, so "
                     "project_batch must apply every event with projection.apply and write the checkpoint with "
                     "tx.set_checkpoint, as the given version does"
                     + (f". Meanwhile: {_outcome(run)}" if _outcome(run) else ""))
    if run.crash is None:
        outcome = _outcome(run)
        return wrong("the injected crash was caught inside project_batch and the projector carried on. The "
                     "exception stands for the process dying (like kill -9), which no code can catch: let it "
                     "propagate" + (f". What it hid: {outcome}" if outcome else ""))
    outcome = _outcome(run)
    if outcome:
        return wrong(outcome)
    return solved(f"the crash in batch {CRASH_BATCH} took the batch's rows and its checkpoint down together: the "
                  f"restart resumed at event {run.checkpoint_at_crash + 1} and each of the {run.head} events was "
                  "applied exactly once")


FIND_THE_BUG = ("check_split_checkpoint",)


CHECKS: dict[str, Check] = {"sku_units": check_sku_units, "split_checkpoint": check_split_checkpoint}
