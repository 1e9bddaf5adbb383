"""The append side of the row format: messages become rows, and what would not read back is refused first.

Every backend (memory, SQLite, PostgreSQL) prepares an append here, so all of them accept and refuse exactly the
same inputs. An event is refused — before anything of its batch is written — when:

- its type is not in the store's registry (a reader could not pick its class);
- its envelope claims another schema version than the registered class has (a reader would upcast it wrongly);
- it holds NaN or ±infinity (JSON has neither: pydantic would write ``null``, which reads back as no number);
- its payload cannot be written as JSON, or its JSON does not validate as the registered class (the reader's check,
  run once at write time).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticSerializationError

from course_lib.clock import Clock, IdFactory
from course_lib.eventstore.base import EventNotStorable
from course_lib.eventstore.records import ROW_FIELDS, error_location
from course_lib.messages import Envelope, Message, Metadata, Registry, UnknownMessageType, envelope

EncodedRow = tuple[UUID, str, str, str]
"""``(message_id, type, metadata_json, data_json)``: one event as the SQL backends store it."""

_METADATA_TO_JSON = Metadata.__pydantic_serializer__.to_json
_ROW_FIELDS_AND_CORRELATION = ROW_FIELDS | {"correlation_id"}  # a message that starts its own conversation
_FLOAT_CAPABLE = frozenset({"float", "any", "function-plain", "function-wrap", "is-instance", "callable"})


def encode_batch(
    stream_id: str,
    events: Sequence[Envelope[Any] | Message],
    *,
    registry: Registry,
    clock: Clock,
    ids: IdFactory,
) -> tuple[list[Envelope[Message]], list[EncodedRow]]:
    """The envelopes of an append and their rows, in one pass: bare messages are wrapped, an id repeated within
    the batch is kept once, and every event is checked (see the module docstring) before any is returned."""
    if isinstance(events, Envelope | Message):
        raise TypeError("append() takes a list of events; wrap the single event in a list: [event]")
    batch: list[Envelope[Message]] = []
    rows: list[EncodedRow] = []
    seen: set[int] = set()
    targets: dict[str, tuple[type[Message], int, Callable[[bytes], Any]]] = {}  # per type name: what reads it
    sources: dict[type, tuple[Callable[..., bytes], bool]] = {}  # per message class: its JSON writer, has floats?
    wrapped: dict[type, bool] = {}  # per class of item: already an envelope? (isinstance on models is slow)
    # the CPU side of every append, so per event: each field read once, per-class work looked up in a dict, and
    # no calls but pydantic-core's three (write the message, read it back as the reader's class, write the metadata)
    for item in events:
        is_envelope = wrapped.get(type(item))
        if is_envelope is None:
            if not isinstance(item, Envelope | Message):
                raise TypeError(
                    f"append() takes Event objects or Envelopes, got {type(item).__name__}: "
                    "build the event from its class (OrderCreated(...)) first"
                )
            is_envelope = wrapped[type(item)] = isinstance(item, Envelope)
        env: Envelope[Message] = item if is_envelope else envelope(item, clock=clock, ids=ids)  # type: ignore[assignment,arg-type]
        meta = env.metadata
        if meta.stream_id is not None and meta.stream_id != stream_id:
            raise ValueError(
                f"envelope {meta.message_id} belongs to stream {meta.stream_id!r}, not {stream_id!r}: "
                "append it to its own stream"
            )
        message_id = meta.message_id
        key = message_id.int
        if key in seen:
            continue
        seen.add(key)
        type_name = meta.type
        target = targets.get(type_name)
        if target is None:
            target = targets[type_name] = _target(registry, type_name, stream_id)
        cls, schema_version, validate = target
        if meta.schema_version != schema_version:
            raise _wrong_version(stream_id, type_name, meta.schema_version, cls)
        message = env.message
        source = sources.get(type(message))
        if source is None:
            source = sources[type(message)] = (message.__pydantic_serializer__.to_json, _may_hold_floats(type(message)))
        to_json, may_hold_floats = source
        if may_hold_floats:
            _check_finite(message, stream_id, type_name)
        try:
            data = to_json(message)
        except PydanticSerializationError as exc:
            raise _unserialisable(message, stream_id, type_name, exc) from None
        try:
            validate(data)
        except ValidationError as exc:
            raise _unreadable(exc, cls, stream_id, type_name) from None
        stored_apart = ROW_FIELDS if meta.correlation_id.int != key else _ROW_FIELDS_AND_CORRELATION
        rows.append((message_id, type_name,
                     _METADATA_TO_JSON(meta, exclude=stored_apart, exclude_defaults=True).decode(), data.decode()))
        batch.append(env)
    return batch, rows


def _target(registry: Registry, type_name: str, stream_id: str) -> tuple[type[Message], int, Callable[[bytes], Any]]:
    """The class a reader will use for ``type_name``, its schema version, and its validator from JSON."""
    if type_name not in registry:
        raise UnknownMessageType(type_name, registry.names(), before=f"appending it to stream {stream_id!r}")
    cls = registry.resolve(type_name)
    return cls, cls.schema_version, cls.__pydantic_validator__.validate_json


def _wrong_version(stream_id: str, type_name: str, stated: int, cls: type[Message]) -> EventNotStorable:
    return EventNotStorable(
        stream_id, type_name, "schema_version",
        f"the envelope says schema v{stated} but the registered class {cls.__name__} is "
        f"v{cls.schema_version}, so a reader would treat it as the wrong version",
        "Wrap the event with envelope(event) (it takes the version from the class), or append it through a "
        "store whose registry has the class of that version",
    )


def _check_finite(message: Message, stream_id: str, type_name: str) -> None:
    where = _non_finite(message)
    if where is not None:
        path, value = where
        raise EventNotStorable(
            stream_id, type_name, path,
            f"{value!r} is not a finite number, and JSON has no NaN or infinity: it would be stored as null "
            "and could not be read back as a number",
            "Store a finite number, or make the field optional and store None for 'no value'",
        )


def _unserialisable(message: Message, stream_id: str, type_name: str,
                    exc: PydanticSerializationError) -> EventNotStorable:
    return EventNotStorable(
        stream_id, type_name, _unserialisable_field(message), f"the value cannot be written as JSON ({exc})",
        "Store JSON-ready values (str, int, float, bool, None, lists, dicts, models) or give the field a type "
        "pydantic can serialise",
    )


def _unreadable(exc: ValidationError, cls: type[Message], stream_id: str, type_name: str) -> EventNotStorable:
    """The message's JSON does not validate as the class a reader will use (the reader's check, run at write time)."""
    error = exc.errors()[0]
    return EventNotStorable(
        stream_id, type_name, error_location(error) or None,
        f"its JSON would not read back as the registered class {cls.__name__} ({error['msg']})",
        f"Append an event of class {cls.__name__} (or register the event's own class under {type_name!r}), and "
        "make sure the class reads what it writes (aliases, custom serialisers, computed fields)",
    )


@lru_cache(maxsize=1024)
def _may_hold_floats(cls: type[BaseModel]) -> bool:
    """Whether any field of ``cls`` (nested models included) can hold a float: only those events are scanned."""
    pending: list[Any] = [cls.__pydantic_core_schema__]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            if node.get("type") in _FLOAT_CAPABLE:
                return True
            pending.extend(node.values())
        elif isinstance(node, list | tuple):
            pending.extend(node)
    return False


def _non_finite(value: Any, path: str = "") -> tuple[str, float] | None:
    """The dotted path and value of the first NaN or infinity inside ``value``, if there is one."""
    if isinstance(value, float):
        return None if math.isfinite(value) else (path, value)
    if isinstance(value, BaseModel):
        items: Any = value.__dict__.items()
    elif isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list | tuple | set | frozenset):
        items = enumerate(value)
    else:
        return None
    for key, inner in items:
        found = _non_finite(inner, f"{path}.{key}" if path else str(key))
        if found is not None:
            return found
    return None


def _unserialisable_field(message: Message) -> str | None:
    """The first field that fails to serialise on its own (only called once serialising the whole message failed)."""
    for name in type(message).model_fields:
        try:
            message.__pydantic_serializer__.to_json(message, include={name})
        except PydanticSerializationError:
            return name
    return None
