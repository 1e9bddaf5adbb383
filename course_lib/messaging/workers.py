"""What the RabbitMQ and Kafka background workers share: one stats type and one lifecycle.

- ``start()`` runs a worker once: a second call raises ``WorkerAlreadyStarted`` (create a new worker instead), so
  a re-run notebook cell cannot silently keep an old worker with old settings.
- ``stop(timeout)`` raises ``WorkerStuck`` when the thread is still alive after ``timeout``, instead of returning
  as if it had stopped; ``WorkerFailed`` (cause chained) when the worker had already stopped on its own.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field

from course_lib.errors import raise_if_failed
from course_lib.messaging.errors import WorkerAlreadyStarted, WorkerStuck


@dataclass
class WorkerStats:
    """Counts of what a worker did; read them from any thread. A counter a broker has no use for stays 0
    (RabbitMQ never commits offsets; a Kafka worker hands records to the handler undecoded, so none is malformed).
    """

    received: int = 0
    processed: int = 0
    failed: int = 0
    retried: int = 0
    dead_lettered: int = 0
    malformed: int = 0
    redelivered: int = 0
    commits: int = 0
    commit_failures: int = 0
    recent: deque[tuple[str, str]] = field(default_factory=lambda: deque(maxlen=50))  # (what, detail), newest last

    def as_dict(self) -> dict[str, int]:
        """The counters (without the recent-events log)."""
        return {k: v for k, v in self.__dict__.items() if isinstance(v, int)}


def refuse_second_start(name: str, thread: threading.Thread | None) -> None:
    """Raise ``WorkerAlreadyStarted`` if this worker was started before."""
    if thread is not None:
        state = "still runs" if thread.is_alive() else "has stopped"
        raise WorkerAlreadyStarted(f"{name} was already started (it {state}); a worker runs once: create a new one "
                                   "to run again (and stop() this one if it still runs)")


def stop_thread(name: str, thread: threading.Thread | None, timeout: float, error: BaseException | None) -> None:
    """Wait up to ``timeout`` for a worker thread that was asked to stop; raise ``WorkerStuck`` if it still runs,
    ``WorkerFailed`` if it had stopped on its own."""
    if thread is not None:
        thread.join(timeout)
        if thread.is_alive():
            raise WorkerStuck(f"{name} did not stop within {timeout:g}s: a handler is still running. Make the handler "
                              "return or raise (give its I/O a timeout), then call stop() again.")
    raise_if_failed(name, error)
