"""A group worker in its own process, writing to an SQLite sink — the test kills it with SIGKILL.

    python tests/integration/kafka/worker_process.py BOOTSTRAP TOPIC GROUP DB_PATH

Every processing is appended to ``log`` (to see at-least-once redelivery); ``sink`` has the record id as its
primary key, so it holds each record exactly once however often it is processed (an idempotent sink).
SIGTERM stops the worker cleanly.
"""

from __future__ import annotations

import signal
import sqlite3
import sys
import threading

from course_lib.messaging.kafka import GroupWorker, Record


def main(bootstrap: str, topic: str, group: str, db_path: str) -> None:
    db = sqlite3.connect(db_path, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE IF NOT EXISTS log (id INTEGER NOT NULL)")
    db.execute("CREATE TABLE IF NOT EXISTS sink (id INTEGER PRIMARY KEY)")
    db.commit()

    def handle(record: Record) -> None:
        record_id = int(record.json()["id"])
        with db:  # one transaction per record: the sink write and the log line together
            db.execute("INSERT INTO log (id) VALUES (?)", (record_id,))
            db.execute("INSERT OR IGNORE INTO sink (id) VALUES (?)", (record_id,))

    worker = GroupWorker(topic, group, handle, bootstrap=bootstrap, name="subprocess-worker", max_poll_records=20)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    worker.start()
    while not stop.wait(0.2):
        if worker.error is not None:
            raise SystemExit(f"worker failed: {worker.error!r}")
    worker.stop()


if __name__ == "__main__":
    main(*sys.argv[1:5])
