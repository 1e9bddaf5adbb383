"""One way to talk to SQLite and PostgreSQL, for every store that has both twins (outbox, inbox, saga log, read
models): a connection, its dialect, the lock that serialises its use, and a transaction helper.

Statements are written once, with ``?`` placeholders; ``adapt`` turns them into psycopg's ``%s`` for PostgreSQL.
Both connections run in autocommit mode, so a transaction is exactly what ``Database.transaction`` (or an event
store's append) opens: a store's rows and the caller's effect commit together or not at all.
"""

from __future__ import annotations

import sqlite3
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal, TypeVar

from course_lib import pg

Dialect = Literal["sqlite", "postgres"]
"""Which SQL a statement must be written in: the course's two databases."""


def adapt(statement: str, dialect: Dialect) -> str:
    """``statement`` with its ``?`` placeholders in the dialect's style (``%s`` for psycopg)."""
    return statement.replace("?", "%s") if dialect == "postgres" else statement


def check_identifier(name: str, what: str = "table") -> str:
    """``name`` if it is a plain identifier (it is put into SQL text, so nothing else is accepted)."""
    if not name.isidentifier():
        raise ValueError(f"{what} must be a plain identifier, got {name!r}")
    return name


def is_unique_violation(exc: BaseException) -> bool:
    """Whether a database error says a unique key is taken (SQLite's or PostgreSQL's wording of it)."""
    if isinstance(exc, sqlite3.IntegrityError):
        return "UNIQUE" in str(exc) or "PRIMARY KEY" in str(exc)
    return type(exc).__name__ == "UniqueViolation"


def connect_sqlite(path: str | Path, *, timeout: float = 30.0, page_size: int | None = None,
                   **options: Any) -> sqlite3.Connection:
    """Open ``path`` (creating its folder) in autocommit mode with write-ahead logging.

    - autocommit (``isolation_level=None``): the caller says ``BEGIN``/``COMMIT`` itself, so a transaction covers
      exactly what it should (an append and its outbox rows, a read-model batch and its checkpoint);
    - shareable across threads: every caller serialises its use with its own lock;
    - WAL: readers never block the writer, and the writer never blocks readers;
    - ``timeout``: how long to wait for another process's write lock before "database is locked";
    - ``page_size``: the page size of a file this call creates (an existing file keeps its own);
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
    if page_size is not None:  # before the journal mode, whose switch writes a new file's first page
        conn.execute(f"PRAGMA page_size={int(page_size)}")
    conn.execute("PRAGMA journal_mode=WAL")
    if needs_fullfsync():
        conn.execute("PRAGMA fullfsync=ON")
        conn.execute("PRAGMA checkpoint_fullfsync=ON")
    return conn


def needs_fullfsync() -> bool:
    """True on macOS, where a commit reaches the drive's platter (or flash) only through ``F_FULLFSYNC``."""
    return sys.platform == "darwin"


def connect_postgres(url: str, *, connect_timeout: float = 5, **options: Any) -> Any:
    """A psycopg connection in autocommit mode (``course_lib.pg.connect``: a failure names its fix)."""
    return pg.connect(url, connect_timeout=connect_timeout, **options)


class Tx:
    """One open transaction: run statements written with ``?`` placeholders, read rows."""

    def __init__(self, conn: Any, dialect: Dialect) -> None:
        self.connection = conn
        self.dialect: Dialect = dialect
        self._cur = conn.cursor()

    def execute(self, statement: str, params: Sequence[Any] = ()) -> Tx:
        """Run one statement (``?`` placeholders)."""
        self._cur.execute(adapt(statement, self.dialect), params)
        return self

    def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement for many parameter rows."""
        if rows:
            self._cur.executemany(adapt(statement, self.dialect), rows)

    @property
    def rowcount(self) -> int:
        """How many rows the last statement changed."""
        return int(self._cur.rowcount)

    def fetchone(self) -> tuple[Any, ...] | None:
        row = self._cur.fetchone()
        return tuple(row) if row is not None else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self._cur.fetchall()]


T = TypeVar("T", bound=Tx)


class Database:
    """A connection, its dialect and its lock: what each store twin holds, so its SQL is written once."""

    def __init__(self, conn: Any, dialect: Dialect) -> None:
        self.connection = conn
        self.dialect: Dialect = dialect
        self.lock = threading.Lock()

    @classmethod
    def sqlite(cls, path: str | Path, *, timeout: float = 30.0, synchronous: str | None = None) -> Database:
        """A SQLite file (``connect_sqlite``); ``synchronous`` sets the PRAGMA (OFF, NORMAL, FULL or EXTRA)."""
        if synchronous is not None and synchronous not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise ValueError(f"synchronous must be OFF, NORMAL, FULL or EXTRA, got {synchronous!r}")
        conn = connect_sqlite(path, timeout=timeout)
        if synchronous is not None:
            conn.execute(f"PRAGMA synchronous={synchronous}")
        return cls(conn, "sqlite")

    @classmethod
    def postgres(cls, url: str, **options: Any) -> Database:
        """A PostgreSQL database (``connect_postgres``; ``options`` go to psycopg, e.g. ``options="-c …"``)."""
        return cls(connect_postgres(url, **options), "postgres")

    def execute(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one statement in its own transaction (autocommit); the rows it returned, if any."""
        with self.lock:
            cur = self.connection.execute(adapt(statement, self.dialect), params)
            return [tuple(r) for r in cur.fetchall()] if cur.description else []

    @contextmanager
    def transaction(self, tx_type: type[T]) -> Iterator[T]:
        """One transaction (a ``tx_type``: ``Tx`` or a subclass), under the lock: commits when the block ends, rolls
        back if it raises.

        SQLite starts it with ``BEGIN IMMEDIATE`` (the write lock up front: two writers never deadlock upgrading).
        """
        with self.lock:
            if self.dialect == "postgres":
                with self.connection.transaction():
                    yield tx_type(self.connection, self.dialect)
                return
            self.connection.execute("BEGIN IMMEDIATE")
            try:
                yield tx_type(self.connection, self.dialect)
            except BaseException:
                if self.connection.in_transaction:
                    self.connection.execute("ROLLBACK")
                raise
            self.connection.execute("COMMIT")

    def close(self) -> None:
        with self.lock:
            self.connection.close()
