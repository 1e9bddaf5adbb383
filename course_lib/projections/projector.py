"""Projections and the projector that keeps them up to date.

A **projection** turns events into rows of a read model (``apply``). The **projector** reads the store's global
log from the projection's checkpoint, in pages, and applies the events in batches; each batch's read-model
changes and its new checkpoint commit in **one transaction**. A crash anywhere before the commit rolls the whole
batch back, and the restarted projector reads it again from the old checkpoint: no event skipped, none applied
twice.

Operations: ``catch_up`` (until the head), ``start``/``stop`` (a background worker), ``wait_for_position``,
``rebuild`` (from zero, with a progress bar), ``lag``, ``status`` (what it waits for, and any alarm).
"""

from __future__ import annotations

import contextlib
import gc
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from course_lib.errors import CourseError
from course_lib.eventstore.base import EventStore
from course_lib.messages import Envelope, Message
from course_lib.projections.gaps import GapPolicy, PostgresGapPolicy, WaitForGap
from course_lib.projections.readmodels import ReadModelStore, Tx
from course_lib.waiting import WaitTimeout, wait_until

log = logging.getLogger("course_lib.projections")

CRASH_POINTS: tuple[str, ...] = (
    "after_read", "before_apply", "after_apply", "before_checkpoint", "before_commit", "after_commit",
)
"""Where ``Projector(fault=...)`` is called, in order, so tests can crash at every step of a batch.

``after_read`` gets the page's first position, the ``*_apply`` points each event's position, the others the
batch's last position. ``after_commit`` is after the commit but before the projector notes its new position."""

Fault = Callable[[str, int], None]
"""``fault(point, position)``: called at each crash point; raise (or kill the process) to simulate a crash."""


class Projection:
    """Base class: name the projection, create its tables, clear them, and apply events.

    ``apply`` calls ``on_<EventType>(tx, event, envelope)`` when the subclass defines it; events without a
    method are ignored (they still move the checkpoint).
    """

    name: ClassVar[str] = "projection"
    tables: ClassVar[tuple[str, ...]] = ()

    def setup(self, tx: Tx) -> None:
        """Create the read model's tables (idempotent)."""

    def reset(self, tx: Tx) -> None:
        """Empty the read model before a rebuild. The default deletes every row of ``tables``."""
        for table in self.tables:
            tx.execute(f"DELETE FROM {table}")

    def apply(self, tx: Tx, env: Envelope[Message]) -> None:
        """Apply one event inside the batch's transaction."""
        type_name = env.metadata.type
        try:
            handler = self._handler_cache[type_name]
        except AttributeError:
            self._handler_cache: dict[str, Any] = {}
            handler = self._handler_cache[type_name] = getattr(self, f"on_{type_name}", None)
        except KeyError:
            handler = self._handler_cache[type_name] = getattr(self, f"on_{type_name}", None)
        if handler is not None:
            handler(tx, env.message, env)


class ProjectorStopped(CourseError):
    """The projector was asked to stop while catching up (the last batch was not committed)."""


@dataclass
class ProjectorStats:
    """What the projector has done since it was created."""

    batches: int = 0
    events: int = 0
    skipped_gaps: list[tuple[int, int]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ProjectorStatus:
    """Where the projector is and what holds it up, for callers and widgets.

    ``waiting_for``: the gap it stopped in front of at its last read (``None`` when it reached the head).
    ``alarm``: set by the gap policy when that wait has lasted too long (e.g. a writer's transaction left open);
    the projector keeps waiting rather than skip an event that may still commit.
    """

    position: int
    running: bool
    waiting_for: tuple[int, int] | None
    alarm: str | None
    last_error: str | None


class Projector:
    """Follows the global log and applies it to one projection, checkpoint and read model in one transaction."""

    def __init__(
        self,
        store: EventStore,
        read_models: ReadModelStore,
        projection: Projection,
        *,
        page_size: int = 2000,
        batch_size: int = 1000,
        gap_policy: GapPolicy | None = None,
        fault: Fault | None = None,
    ) -> None:
        if page_size < 1 or batch_size < 1:
            raise ValueError("page_size and batch_size must be >= 1")
        self.store = store
        self.read_models = read_models
        self.projection = projection
        self.name = projection.name
        self.page_size = page_size
        self.batch_size = batch_size
        self._owns_gap_policy = gap_policy is None
        self.gaps: GapPolicy = gap_policy or default_gap_policy(store)
        bind = getattr(self.gaps, "bind", None)
        if callable(bind):
            bind(store)  # a policy that asks the store's database learns which store it follows
        self._settled_through: Callable[[], int] = getattr(self.gaps, "settled_through", lambda: 0)
        self._waiting_for: tuple[int, int] | None = None
        self.fault = fault
        self.stats = ProjectorStats()
        self._run_lock = threading.RLock()
        self._confirm: set[int] = set()  # gaps judged settled before the latest read
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._worker: threading.Thread | None = None
        self.last_error: BaseException | None = None
        with read_models.transaction() as tx:
            projection.setup(tx)
            tx.ensure_checkpoint(self.name)
            self._position: int = tx.checkpoint(self.name)

    # ------------------------------------------------------------------------------------------- state

    @property
    def position(self) -> int:
        """The last committed checkpoint: every event up to here is in the read model."""
        return self._position

    def lag(self) -> int:
        """Positions behind the head of the log."""
        return max(0, self.store.last_position() - self._position)

    def status(self) -> ProjectorStatus:
        """The checkpoint, whether the worker runs, the gap it waits at, and the gap policy's alarm (if any)."""
        alarm = getattr(self.gaps, "alarm", None)
        error = self.last_error
        return ProjectorStatus(self._position, self.running, self._waiting_for,
                               alarm if isinstance(alarm, str) else None,
                               f"{type(error).__name__}: {error}" if error is not None else None)

    # -------------------------------------------------------------------------------------- catching up

    def _hit(self, point: str, position: int) -> None:
        if self.fault is not None:
            self.fault(point, position)

    def _read_page(self) -> tuple[list[Envelope[Message]], str]:
        """The next events after the checkpoint, stopping at an unsettled gap.

        Returns the events and what comes next: ``"more"`` (read again), ``"head"`` (caught up),
        ``"blocked"`` (waiting for a gap to fill or settle) or ``"reread"`` (a gap just settled: read once more,
        and step over it only if it is still missing in that fresh read).
        """
        confirmed, self._confirm = self._confirm, set()
        settled_through = self._settled_through()  # known before this read, so a gap below it in this read is final
        self._waiting_for = None
        page = self.store.read_all(self._position + 1, limit=self.page_size)
        events: list[Envelope[Message]] = []
        expected = self._position + 1
        for env in page:
            pos = env.metadata.position
            if pos is None:
                raise CourseError("the event store returned an event without a position; it breaks the contract")
            if pos > expected:  # expected .. pos-1 are missing
                if pos - 1 <= settled_through or expected in confirmed:
                    self.stats.skipped_gaps.append((expected, pos - 1))
                    log.info("%s: stepping over settled gap %d..%d", self.name, expected, pos - 1)
                elif self.gaps.settled(expected, pos - 1):
                    self._confirm.add(expected)
                    return events, "reread"
                else:
                    self._waiting_for = (expected, pos - 1)
                    return events, "blocked"
            events.append(env)
            expected = pos + 1
        return events, ("more" if len(page) == self.page_size else "head")

    def _apply_batch(self, batch: list[Envelope[Message]]) -> None:
        last = batch[-1].metadata.position
        assert last is not None
        with self.read_models.transaction() as tx:
            committed = tx.checkpoint(self.name, lock=True)
            if committed != self._position:  # another projector (or a rebuild) moved it: start again from there
                self._position = committed
                raise _Resync
            for env in batch:
                pos = env.metadata.position or 0
                self._hit("before_apply", pos)
                self.projection.apply(tx, env)
                self._hit("after_apply", pos)
            self._hit("before_checkpoint", last)
            tx.set_checkpoint(self.name, last)
            self._hit("before_commit", last)
        self._hit("after_commit", last)
        self._position = last
        self.stats.batches += 1
        self.stats.events += len(batch)

    def catch_up(self, *, max_events: int | None = None, progress: bool | None = None) -> int:
        """Apply events until the head (or an unsettled gap, or ``max_events``); returns how many were applied.

        ``progress``: show a tqdm bar (default: only when more than 20,000 events behind).
        """
        with self._run_lock:
            behind = self.lag()
            show = progress if progress is not None else behind > 20_000
            bar = _progress_bar(behind, self.name) if show else None
            try:
                with _cyclic_gc_paused(behind > _LONG_REPLAY):
                    applied = self._apply_pages(max_events, bar)
                self.gaps.forget_below(self._position)
                return applied
            finally:
                if bar is not None:
                    bar.close()

    def _apply_pages(self, max_events: int | None, bar: Any) -> int:
        """Read and apply pages until the head, an unsettled gap or ``max_events``; returns events applied."""
        applied = 0
        while max_events is None or applied < max_events:
            events, state = self._read_page()
            if events:
                self._hit("after_read", events[0].metadata.position or 0)
            if max_events is not None:
                events = events[: max_events - applied]
            resynced = False
            for batch in _chunks(events, self.batch_size):
                if self._stop.is_set() and threading.current_thread() is self._worker:
                    raise ProjectorStopped(f"{self.name} stopped at position {self._position}")
                try:
                    self._apply_batch(batch)
                except _Resync:
                    resynced = True
                    break
                applied += len(batch)
                if bar is not None:
                    bar.update(len(batch))
            if state in ("head", "blocked") and not resynced:
                break
        return applied

    def rebuild(self, *, progress: bool | None = True, timeout: float = 60.0) -> int:
        """Empty the read model and replay the whole log; returns the number of events applied.

        Every event committed before the call is in the read model when it returns. A gap whose writer may still
        commit is waited for, never stepped over: after ``timeout`` seconds ``WaitTimeout`` says who holds it up.
        """
        with self._run_lock:
            head = self.store.last_position()
            with self.read_models.transaction() as tx:
                self.projection.setup(tx)
                self.projection.reset(tx)
                tx.set_checkpoint(self.name, 0)
            self._position = 0
            self._confirm.clear()
            applied = self.catch_up(progress=progress)
            return applied + self._finish_replay(head, timeout)

    def _finish_replay(self, head: int, timeout: float) -> int:
        """Catch up until ``head`` (a rebuild's end), waiting at gaps that may still fill; returns events applied."""
        applied = 0

        def reached() -> bool:
            nonlocal applied
            applied += self.catch_up(progress=False)
            return self._position >= head

        if self._position < head:
            try:
                wait_until(reached, timeout=timeout, interval=0.01,
                           what=f"the rebuild of {self.name!r} to reach position {head}")
            except WaitTimeout as exc:
                raise WaitTimeout(f"{exc}: {self._holdup()}") from None
        return applied

    def _holdup(self) -> str:
        """Why the projector is not further, in one sentence (for timeout messages)."""
        status = self.status()
        if status.alarm:
            return status.alarm
        if status.waiting_for:
            first, last = status.waiting_for
            return f"checkpoint {status.position}, waiting for a gap at {first}..{last} to fill or settle"
        return f"checkpoint {status.position}"

    def wait_for_position(self, position: int, *, timeout: float = 10.0) -> int:
        """Block until the checkpoint reaches ``position`` (e.g. a command's ``CommandResult.position``)."""
        self._wake.set()
        try:
            wait_until(lambda: self._position >= position, timeout=timeout, interval=0.01,
                       what=f"projection {self.name!r} to reach position {position}")
        except WaitTimeout as exc:
            running = self._thread is not None and self._thread.is_alive()
            hint = ("the worker is running; is it stuck on a gap or failing? see projector.status()"
                    if running else "no worker is running: call projector.start() or projector.catch_up()")
            raise WaitTimeout(f"{exc} ({self._holdup()}; {hint})") from None
        return self._position

    # ----------------------------------------------------------------------------------------- the worker

    def start(self, *, poll_interval: float = 0.05) -> Projector:
        """Run ``catch_up`` continuously in a background thread until ``stop()``."""
        if self._thread is not None and self._thread.is_alive():
            return self
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, args=(poll_interval,), name=f"projector-{self.name}",
                                        daemon=True)
        self._worker = self._thread
        self._thread.start()
        return self

    def notify(self) -> None:
        """Wake the worker now (e.g. right after an append) instead of at its next poll."""
        self._wake.set()

    def _run(self, poll_interval: float) -> None:
        while not self._stop.is_set():
            try:
                self.catch_up(progress=False)
                self.last_error = None
            except ProjectorStopped:
                break
            except Exception as exc:  # keep the worker alive; the batch rolled back and will be retried
                self.last_error = exc
                self.stats.errors.append(f"{type(exc).__name__}: {exc}")
                log.exception("projector %s failed; retrying from checkpoint %d", self.name, self._position)
            self._wake.wait(poll_interval)  # poll interval; notify() and stop() cut it short
            self._wake.clear()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the worker and wait for it; an uncommitted batch is rolled back."""
        self._stop.set()
        self._wake.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                raise CourseError(f"projector {self.name} did not stop within {timeout}s")

    def close(self) -> None:
        """Stop the worker and release what the projector opened itself (the default gap policy's connection)."""
        self.stop()
        close = getattr(self.gaps, "close", None)
        if self._owns_gap_policy and close is not None:
            close()

    @property
    def running(self) -> bool:
        """True while the background worker runs."""
        return self._thread is not None and self._thread.is_alive()


def default_gap_policy(store: EventStore) -> GapPolicy:
    """PostgreSQL stores get ``PostgresGapPolicy`` (asks the database); every other store ``WaitForGap``."""
    from course_lib.eventstore.postgres import PostgresEventStore

    if isinstance(store, PostgresEventStore):
        return PostgresGapPolicy(store.url, schema=store.schema)
    return WaitForGap()


class _Resync(Exception):
    """Internal: the committed checkpoint moved under us; read again from it."""


_LONG_REPLAY = 5_000  # events behind: from here on a catch-up pauses the cyclic garbage collector


@contextlib.contextmanager
def _cyclic_gc_paused(pause: bool) -> Iterator[None]:
    """Pause the cyclic garbage collector for a long, bounded replay (when ``pause``), then restore it.

    A replay builds and drops millions of short-lived objects that form no cycles: reference counting frees them
    all. The cyclic collector would only rescan each fresh page (a fifth of a rebuild's time, measured with
    cProfile), so it waits until the catch-up returns.
    """
    was_enabled = gc.isenabled()
    if pause:
        gc.disable()
    try:
        yield
    finally:
        if pause and was_enabled:
            gc.enable()


def _chunks(items: list[Envelope[Message]], size: int) -> Iterator[list[Envelope[Message]]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _progress_bar(total: int, name: str) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=f"rebuild {name}", unit="ev", leave=False)


def dump(read_models: ReadModelStore, projection: Projection) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of a projection's tables, sorted — to compare two read models exactly."""
    return {table: sorted(read_models.query(f"SELECT * FROM {table}")) for table in projection.tables}
