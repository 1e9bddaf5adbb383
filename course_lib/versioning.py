"""Event versioning: upcasters that turn stored events of an old schema into the current one, on read.

Stored events are never rewritten (they are facts). Instead each change of an event's schema bumps the class's
``schema_version`` and registers an upcaster from the previous version; reads apply the chain
v1 → v2 → v3 … (``course_lib.messages.from_dict`` does it), so old streams load into new code.

    registry.add_upcaster("OrderItemAdded", 1, add_field("currency", "EUR", to_version=2))
    registry.add_upcaster("OrderItemAdded", 2, rename_field("unit_price", "unit_price_cents", to_version=3))

The helpers below cover the common, non-breaking changes; a split (one old event becomes two) is a function
returning a list of ``RawEvent``.
"""

from __future__ import annotations

from collections.abc import Callable
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
