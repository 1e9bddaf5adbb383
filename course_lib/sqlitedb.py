"""One way to open a SQLite database for the course's stores, logs and read models."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path
from typing import Any


def connect(path: str | Path, *, timeout: float = 30.0, **options: Any) -> sqlite3.Connection:
    """Open ``path`` (creating its folder) in autocommit mode with write-ahead logging.

    - autocommit (``isolation_level=None``): the caller says ``BEGIN``/``COMMIT`` itself, so a transaction covers
      exactly what it should (an append and its outbox rows, a read-model batch and its checkpoint);
    - shareable across threads: every caller serialises its use with its own lock;
    - WAL: readers never block the writer, and the writer never blocks readers;
    - ``timeout``: how long to wait for another process's write lock before "database is locked";
    - on macOS, ``fullfsync``: there ``fsync()`` only hands the data to the drive, whose cache may still lose it
      on a power cut, so ``synchronous=FULL`` would not mean "on the disk". With ``fullfsync`` SQLite syncs with
      ``F_FULLFSYNC``, which waits for the drive itself (slower, and the only honest FULL on a Mac).
    """
    target = str(path)
    if target != ":memory:" and not target.startswith("file:"):
        Path(target).parent.mkdir(parents=True, exist_ok=True)
    conn: sqlite3.Connection = sqlite3.connect(
        target, isolation_level=None, check_same_thread=False, timeout=timeout, **options
    )
    conn.execute("PRAGMA journal_mode=WAL")
    if needs_fullfsync():
        conn.execute("PRAGMA fullfsync=ON")
        conn.execute("PRAGMA checkpoint_fullfsync=ON")
    return conn


def needs_fullfsync() -> bool:
    """True on macOS, where a commit reaches the drive's platter (or flash) only through ``F_FULLFSYNC``."""
    return sys.platform == "darwin"
