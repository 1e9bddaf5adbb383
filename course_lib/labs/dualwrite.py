"""The dual-write bug, for real: a process that commits to the database and is killed before it publishes.

``run_writer`` starts a separate Python process that appends an ``OrderPlaced``-style event to a SQLite event
store and then waits. The parent kills it with SIGKILL at exactly that moment — after the commit, before the
publish — which is what a crash, an OOM kill or a redeploy does at an unlucky time.

- ``mode="dual-write"``: the child would publish to RabbitMQ itself after the commit. Killed, it never does: the
  database has the event, the broker never hears of it.
- ``mode="outbox"``: the child writes the event and its outbox row in one transaction and publishes nothing; the
  relay (another process, later) finds the row and publishes it. Killed, nothing is lost.

Run as a module for the child side: ``python -m course_lib.labs.dualwrite MODE DB EXCHANGE [URL]``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from typing import Literal

from course_lib.errors import CourseError
from course_lib.processes import reap

Mode = Literal["dual-write", "outbox"]
READY = "COMMITTED"


@dataclass(frozen=True)
class WriterRun:
    """What happened to one writer process."""

    mode: Mode
    message_id: str
    killed: bool
    returncode: int


def _child(mode: str, db: str, exchange: str, url: str | None) -> None:
    from course_lib.eventstore.sqlite import SQLiteEventStore
    from course_lib.messages import envelope
    from course_lib.outbox.outbox import SQLiteOutbox
    from course_lib.shop.events import OrderCreated

    store = SQLiteEventStore(db)
    env = envelope(OrderCreated(order_id=f"o-{os.getpid()}", customer_id="c-1"))
    if mode == "outbox":
        outbox = SQLiteOutbox(db)
        store.append(f"order-{os.getpid()}", [env], in_transaction=outbox.hook)
    else:
        store.append(f"order-{os.getpid()}", [env])
    print(f"{READY} {env.message_id}", flush=True)
    if sys.stdin.readline() and mode == "dual-write":  # the parent says "carry on": the second write
        from course_lib.outbox.publishers import RabbitMQPublisher

        publisher = RabbitMQPublisher(exchange, url)
        publisher.publish(env)
        publisher.close()
    print("DONE", flush=True)


def run_writer(mode: Mode, db: str, exchange: str, url: str | None = None, *, kill: bool = True,
               timeout: float = 30.0) -> WriterRun:
    """Run the writer process; with ``kill=True`` SIGKILL it right after its database commit."""
    if mode not in ("dual-write", "outbox"):
        raise ValueError(f"mode must be 'dual-write' or 'outbox', got {mode!r}")
    args = [sys.executable, "-m", "course_lib.labs.dualwrite", mode, db, exchange, *([url] if url else [])]
    proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    assert proc.stdin is not None and proc.stdout is not None
    try:
        line = proc.stdout.readline()  # blocks until the child has committed (or died)
        if not line.startswith(READY):
            proc.kill()
            _, err = proc.communicate(timeout=timeout)
            raise CourseError(f"the writer process failed before committing:\n{err.strip()}")
        message_id = line.split()[1]
        if kill:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=timeout)
        else:
            out, err = proc.communicate("go\n", timeout=timeout)
            if proc.returncode != 0 or "DONE" not in out:
                raise CourseError(f"the writer process failed while publishing:\n{err.strip()}")
    finally:
        reap(proc, timeout)
    return WriterRun(mode, message_id, kill, proc.returncode)


if __name__ == "__main__":
    _child(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else None)
