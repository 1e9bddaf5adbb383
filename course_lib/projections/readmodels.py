"""Read-model stores: a database where projections keep their tables **and** their checkpoints.

Keeping both in one database is what makes a projection exact: the projector changes the read model and moves
the checkpoint in one transaction, so after a crash either both happened or neither did — an event is never
skipped and never applied twice.

Projections write SQL with ``?`` placeholders; ``Tx.execute`` rewrites them for PostgreSQL (``%s``), so one
projection runs on both backends (``course_lib.sql``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from course_lib import sql
from course_lib.errors import CourseError

_CHECKPOINTS = (
    "CREATE TABLE IF NOT EXISTS projection_checkpoints (name TEXT PRIMARY KEY, position BIGINT NOT NULL)"
)


class Tx(sql.Tx):
    """One open transaction on a read-model store: run SQL (``?`` placeholders), read rows, move a checkpoint."""

    def checkpoint(self, name: str, *, lock: bool = False) -> int:
        """The projection's checkpoint as seen inside this transaction (0 when it never ran).

        ``lock``: hold the checkpoint row until commit (PostgreSQL ``FOR UPDATE``), so two projectors of the same
        projection take turns instead of both applying the same batch. SQLite's write transaction already
        excludes every other writer.
        """
        statement = "SELECT position FROM projection_checkpoints WHERE name = ?"
        if lock and self.dialect == "postgres":
            statement += " FOR UPDATE"
        row = self.execute(statement, (name,)).fetchone()
        return int(row[0]) if row else 0

    def ensure_checkpoint(self, name: str) -> None:
        """Create the projection's checkpoint row at 0 if it does not exist (so it can be locked)."""
        self.execute("INSERT INTO projection_checkpoints (name, position) VALUES (?, 0) ON CONFLICT (name) DO NOTHING",
                     (name,))

    def set_checkpoint(self, name: str, position: int) -> None:
        """Move the checkpoint inside this transaction — it commits together with the read-model change."""
        self.execute(
            "INSERT INTO projection_checkpoints (name, position) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET position = excluded.position",
            (name, position),
        )


class ReadModelStore(Protocol):
    """Where projections keep read models and checkpoints."""

    dialect: sql.Dialect

    def transaction(self) -> Any:
        """A context manager yielding a ``Tx``; commits on success, rolls back on any exception."""
        ...

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Read rows in their own short transaction (safe from another thread than the projector's)."""
        ...

    def checkpoint(self, name: str) -> int:
        """A projection's committed checkpoint."""
        ...

    def close(self) -> None:
        """Close connections."""
        ...


class SQLiteReadModels:
    """Read models in one SQLite file (WAL mode, so queries read while the projector writes)."""

    dialect: sql.Dialect = "sqlite"

    def __init__(self, path: str | Path, *, synchronous: str = "FULL") -> None:
        if str(path) == ":memory:":
            raise CourseError("SQLiteReadModels needs a file path (queries use their own connection); "
                              "use a file in a temporary directory instead of ':memory:'.")
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # FULL: each commit is on disk before it returns. NORMAL is faster and still atomic: a power cut may lose
        # the last commits, but the read model and its checkpoint are lost *together* and simply re-applied.
        self._writer = sql.Database.sqlite(self.path, timeout=10, synchronous=synchronous)
        with self.transaction() as tx:
            tx.execute(_CHECKPOINTS)

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """One write transaction (``BEGIN IMMEDIATE``: the write lock is taken up front, no upgrade deadlock)."""
        with self._writer.transaction(Tx) as tx:
            yield tx

    def query(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Read on a fresh connection, so a reader never waits for or sees an uncommitted batch."""
        conn = sqlite3.connect(self.path, timeout=10)
        try:
            return [tuple(r) for r in conn.execute(statement, params).fetchall()]
        finally:
            conn.close()

    def checkpoint(self, name: str) -> int:
        rows = self.query("SELECT position FROM projection_checkpoints WHERE name = ?", (name,))
        return int(rows[0][0]) if rows else 0

    def close(self) -> None:
        self._writer.close()


class PostgresReadModels:
    """Read models in a PostgreSQL schema (created if missing)."""

    dialect: sql.Dialect = "postgres"

    def __init__(self, url: str, *, schema: str = "read_models") -> None:
        try:
            import psycopg
        except ImportError as exc:  # pragma: no cover - psycopg is an optional extra
            raise CourseError("PostgresReadModels needs psycopg: pip install 'eda-course[postgres]'") from exc
        if not schema.replace("_", "").isalnum():
            raise CourseError(f"schema name {schema!r} must be letters, digits and underscores")
        self.url = url
        self.schema = schema
        self._psycopg = psycopg
        self._writer = sql.Database.postgres(url, options=f"-c search_path={schema}")
        self._reader = sql.Database.postgres(url, options=f"-c search_path={schema}")
        with self.transaction() as tx:
            tx.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            tx.execute(_CHECKPOINTS)

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """One write transaction on the writer connection."""
        with self._writer.transaction(Tx) as tx:
            yield tx

    def query(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Read on the reader connection (its own transaction), so queries never wait for the projector's lock."""
        return self._reader.execute(statement, params)

    def checkpoint(self, name: str) -> int:
        rows = self.query("SELECT position FROM projection_checkpoints WHERE name = ?", (name,))
        return int(rows[0][0]) if rows else 0

    def drop_schema(self) -> None:
        """Remove the schema and everything in it (tests and course resets)."""
        self._writer.execute(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE")

    def close(self) -> None:
        self._writer.close()
        self._reader.close()
