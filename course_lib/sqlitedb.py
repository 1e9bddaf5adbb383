"""One way to open a SQLite database for the course's stores, logs and read models."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any


def connect(path: str | Path, *, timeout: float = 30.0, **options: Any) -> sqlite3.Connection:
    """Open ``path`` (creating its folder) in autocommit mode with write-ahead logging.

    - autocommit (``isolation_level=None``): the caller says ``BEGIN``/``COMMIT`` itself, so a transaction covers
      exactly what it should (an append and its outbox rows, a read-model batch and its checkpoint);
    - shareable across threads: every caller serialises its use with its own lock;
    - WAL: readers never block the writer, and the writer never blocks readers;
    - ``timeout``: how long to wait for another process's write lock before "database is locked".
    """
    target = str(path)
    if target != ":memory:" and not target.startswith("file:"):
        Path(target).parent.mkdir(parents=True, exist_ok=True)
    conn: sqlite3.Connection = sqlite3.connect(
        target, isolation_level=None, check_same_thread=False, timeout=timeout, **options
    )
    conn.execute("PRAGMA journal_mode=WAL")
    return conn
