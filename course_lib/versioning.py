"""Event versioning: upcasters that turn stored events of an old schema into the current one, on read.

Stored events are never rewritten (they are facts). Instead each change of an event's schema bumps the class's
``schema_version`` and registers an upcaster from the previous version; reads apply the chain
v1 → v2 → v3 … (``course_lib.messages.from_dict`` does it), so old streams load into new code.

    registry.add_upcaster("OrderItemAdded", 1, add_field("currency", "EUR", to_version=2))
    registry.add_upcaster("OrderItemAdded", 2, rename_field("unit_price", "unit_price_cents", to_version=3))

The helpers below cover the common, non-breaking changes; a split (one old event becomes two) is a function
returning a list of ``RawEvent``. ``upcast_stages`` shows what each step changed (the notebook's widget uses
it) and ``read_raw_sqlite`` shows what an SQLite event store file holds before any upcasting.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from course_lib.messages import RawEvent, Registry, UpcastFn, registry


def add_field(name: str, default: Any, *, to_version: int) -> UpcastFn:
    """Old events lack ``name``: give them ``default``."""

    def upcast(raw: RawEvent) -> RawEvent:
        return RawEvent(raw.type, to_version, {**raw.data, name: raw.data.get(name, default)})

    return upcast


def rename_field(old: str, new: str, *, to_version: int) -> UpcastFn:
    """Old events call the field ``old``; the current schema calls it ``new``."""

    def upcast(raw: RawEvent) -> RawEvent:
        data = dict(raw.data)
        if old in data:
            data[new] = data.pop(old)
        return RawEvent(raw.type, to_version, data)

    return upcast


def rename_type(new_type: str, *, to_version: int) -> UpcastFn:
    """The event class was renamed: old stored names map to the new one."""

    def upcast(raw: RawEvent) -> RawEvent:
        return RawEvent(new_type, to_version, dict(raw.data))

    return upcast


def transform(fn: Callable[[dict[str, Any]], dict[str, Any]], *, to_version: int) -> UpcastFn:
    """Any other data change, e.g. converting euros to integer cents."""

    def upcast(raw: RawEvent) -> RawEvent:
        return RawEvent(raw.type, to_version, fn(dict(raw.data)))

    return upcast


def upcaster(type_name: str, from_version: int, reg: Registry = registry) -> Callable[[UpcastFn], UpcastFn]:
    """Decorator form: ``@upcaster("OrderPlaced", 1)`` over a function ``RawEvent -> RawEvent | list``."""

    def decorate(fn: UpcastFn) -> UpcastFn:
        reg.add_upcaster(type_name, from_version, fn)
        return fn

    return decorate


@dataclass(frozen=True)
class FieldChanges:
    """What one upcaster step did to an event's data: fields added, removed, renamed and changed."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    renamed: tuple[tuple[str, str], ...] = ()
    changed: tuple[str, ...] = ()
    type_changed: bool = False

    @property
    def touched(self) -> set[str]:
        """Every field of the *new* data that the step added, renamed into or changed."""
        return {*self.added, *(new for _old, new in self.renamed), *self.changed}

    def describe(self) -> str:
        """A one-line summary such as ``+currency, qty→quantity``."""
        parts = [f"+{name}" for name in self.added] + [f"-{name}" for name in self.removed]
        parts += [f"{old}→{new}" for old, new in self.renamed] + [f"~{name}" for name in self.changed]
        if self.type_changed:
            parts.insert(0, "new type")
        return ", ".join(parts) or "no data change"


def field_changes(before: RawEvent, after: RawEvent) -> FieldChanges:
    """Compare two stages of one event. A field removed and one added with the same value count as a rename."""
    old, new = before.data, after.data
    added = [k for k in new if k not in old]
    removed = [k for k in old if k not in new]
    renamed: list[tuple[str, str]] = []
    for gone in list(removed):
        twin = next((k for k in added if new[k] == old[gone]), None)
        if twin is not None:
            renamed.append((gone, twin))
            removed.remove(gone)
            added.remove(twin)
    changed = [k for k in new if k in old and new[k] != old[k]]
    return FieldChanges(tuple(added), tuple(removed), tuple(renamed), tuple(changed), before.type != after.type)


@dataclass(frozen=True)
class UpcastStage:
    """One event at one stage of the upcaster chain, with the stage it came from (``None`` for the stored one)."""

    event: RawEvent
    parent: RawEvent | None
    changes: FieldChanges


def upcast_stages(raw: RawEvent, reg: Registry = registry) -> list[list[UpcastStage]]:
    """Like ``Registry.upcast_steps``, but each event knows its parent and what the step changed."""
    stages = [[UpcastStage(raw, None, FieldChanges())]]
    while True:
        following: list[UpcastStage] = []
        changed = False
        for stage in stages[-1]:
            steps = reg.upcast_steps(stage.event)
            if len(steps) == 1:  # no upcaster for this (type, version): it is current
                following.append(UpcastStage(stage.event, stage.event, FieldChanges()))
                continue
            changed = True
            following.extend(UpcastStage(child, stage.event, field_changes(stage.event, child)) for child in steps[1])
        if not changed:
            return stages
        stages.append(following)


@dataclass(frozen=True)
class StoredRow:
    """One event exactly as an event store file holds it, before any upcasting."""

    position: int
    stream_id: str
    version: int
    raw: RawEvent

    @property
    def label(self) -> str:
        """``#3 order-1 v2 · OrderItemAdded (schema v1)`` — for pickers and logs."""
        return (f"#{self.position} {self.stream_id} v{self.version} · {self.raw.type} "
                f"(schema v{self.raw.schema_version})")


def read_raw_sqlite(path: str | Path) -> list[StoredRow]:
    """Every event in an SQLite event store file as stored (type, schema version, data), in global order.

    Opens the file read-only: this is for looking at what old code wrote, not for the application's reads
    (those go through the store, which applies the upcasters).
    """
    file = Path(path)
    if not file.exists():
        raise FileNotFoundError(f"no event store file at {file}: pass the path the SQLiteEventStore was opened with")
    with contextlib.closing(sqlite3.connect(f"file:{file}?mode=ro", uri=True)) as conn:
        rows = conn.execute("SELECT position, stream_id, version, type, metadata, data FROM events "
                            "ORDER BY position").fetchall()
    return [StoredRow(position, stream_id, version,
                      RawEvent(type_name, int(json.loads(meta).get("schema_version", 1)), json.loads(data)))
            for position, stream_id, version, type_name, meta, data in rows]
