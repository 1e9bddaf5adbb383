"""What every backend does the same way: turn appended messages into envelopes, and rows back into envelopes.

A stored event is one row: ``position, stream_id, version, message_id, type, metadata, data``. ``metadata`` is the
envelope's metadata as JSON *without* the three fields the row itself holds (stream, version, position), so the
columns are the single source of truth for where an event sits; ``data`` is the message as JSON.
"""

from __future__ import annotations

import gc
import json
import uuid
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from pydantic import ValidationError

from course_lib.clock import Clock, IdFactory
from course_lib.eventstore.base import StoredEventCorrupt
from course_lib.messages import Envelope, MalformedMessage, Message, Metadata, Registry, envelope, from_dict_all

_ROW_FIELDS = {"stream_id", "stream_version", "position", "type"}  # held by the row's own columns


def check_stream_id(stream_id: object) -> str:
    """A stream id is a non-empty string."""
    if not isinstance(stream_id, str) or not stream_id:
        raise ValueError(f"stream_id must be a non-empty string, got {stream_id!r}")
    return stream_id


def prepare(
    stream_id: str, events: Sequence[Envelope[Any] | Message], *, clock: Clock, ids: IdFactory
) -> list[Envelope[Message]]:
    """Envelopes for an append: bare messages get wrapped; an id repeated within the batch is kept once."""
    if isinstance(events, Envelope | Message):
        raise TypeError("append() takes a list of events; wrap the single event in a list: [event]")
    prepared: list[Envelope[Message]] = []
    seen: set[uuid.UUID] = set()
    for item in events:
        if isinstance(item, Envelope):
            env: Envelope[Message] = item
        elif isinstance(item, Message):
            env = envelope(item, clock=clock, ids=ids)
        else:
            raise TypeError(
                f"append() takes Event objects or Envelopes, got {type(item).__name__}: "
                "build the event from its class (OrderCreated(...)) first"
            )
        if env.metadata.stream_id not in (None, stream_id):
            raise ValueError(
                f"envelope {env.message_id} belongs to stream {env.metadata.stream_id!r}, not {stream_id!r}: "
                "append it to its own stream"
            )
        if env.message_id in seen:
            continue
        seen.add(env.message_id)
        prepared.append(env)
    return prepared


def stored(env: Envelope[Message], stream_id: str, version: int, position: int) -> Envelope[Message]:
    """The envelope as the store returns it: with stream id, stream version and global position set."""
    return env.with_metadata(stream_id=stream_id, stream_version=version, position=position)


_METADATA_SERIALIZER = Metadata.__pydantic_serializer__


def encode(env: Envelope[Message]) -> tuple[uuid.UUID, str, str, str]:
    """``(message_id, type, metadata_json, data_json)`` for one row (serialized by pydantic-core directly)."""
    meta = _METADATA_SERIALIZER.to_json(env.metadata, exclude=_ROW_FIELDS).decode()
    data = env.message.__pydantic_serializer__.to_json(env.message).decode()
    return env.metadata.message_id, env.metadata.type, meta, data


def decode(
    registry: Registry, stream_id: str, version: int, position: int, type_name: str, meta_text: Any, data_text: Any
) -> Envelope[Message]:
    """Rebuild an envelope from one row. Unknown type → ``UnknownMessageType``; bad content → ``StoredEventCorrupt``."""
    return decode_rows(registry, [(stream_id, version, position, type_name, meta_text, data_text)])[0]


def decode_rows(registry: Registry, rows: Iterable[Sequence[Any]]) -> list[Envelope[Message]]:
    """Decode a page of rows ``(stream_id, version, position, type, metadata, data)`` into envelopes.

    Each row's metadata and data texts are spliced into one envelope document, with the row's columns (type,
    stream, version, position) added as the last metadata keys so they win over anything in the stored text,
    and validated in a single pass by pydantic-core. A page builds thousands of small objects that all stay
    reachable, so the cyclic garbage collector's passes during the page find nothing to free; it is paused for
    the page (and its previous state restored), which roughly halves the cost of a large read.
    """
    validators: dict[str, tuple[Any, str, int]] = {}
    quoted: dict[str, str] = {}
    out: list[Envelope[Message]] = []
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        upcasted = registry.upcasted_types()
        for stream_id, version, position, type_name, meta_text, data_text in rows:
            if type_name in upcasted:
                upgraded = _upcast_row(registry, stream_id, version, position, type_name, meta_text, data_text)
                if upgraded is not None:
                    out.extend(upgraded)
                    continue
            known = validators.get(type_name)
            if known is None:
                cls = registry.resolve(type_name)
                known = validators[type_name] = (
                    _envelope_type(cls).__pydantic_validator__, json.dumps(type_name), cls.schema_version)
            validator, type_json, current_version = known
            stream_json = quoted.get(stream_id)
            if stream_json is None:
                stream_json = quoted[stream_id] = json.dumps(stream_id)
            meta = _text(meta_text).rstrip()
            if not meta.endswith("}"):
                raise StoredEventCorrupt(stream_id, version, "metadata is not a JSON object")
            document = (f'{{"metadata":{meta[:-1]},"type":{type_json},"stream_id":{stream_json},'
                        f'"stream_version":{int(version)},"position":{int(position)}}},"message":{_text(data_text)}}}')
            try:
                env = validator.validate_json(document)
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(part) for part in first["loc"]) or "(whole payload)"
                raise StoredEventCorrupt(stream_id, version, f"{type_name}: {where}: {first['msg']}") from None
            if env.metadata.schema_version != current_version:
                # Fields may happen to fit, but the meaning may not: an old version needs its upcaster.
                raise StoredEventCorrupt(
                    stream_id, version,
                    f"{type_name} is stored as schema v{env.metadata.schema_version} but the class is "
                    f"v{current_version}: register an upcaster from v{env.metadata.schema_version}")
            out.append(env)
    finally:
        if was_enabled:
            gc.enable()
    return out


def _upcast_row(
    registry: Registry, stream_id: str, version: int, position: int, type_name: str, meta_text: Any, data_text: Any
) -> list[Envelope[Message]] | None:
    """An old-schema row through the registry's upcasters (may split into several); None when it is current."""
    try:
        meta = json.loads(_text(meta_text))
        data = json.loads(_text(data_text))
    except json.JSONDecodeError as exc:
        raise StoredEventCorrupt(stream_id, version, f"not JSON: {exc}") from None
    if not isinstance(meta, dict) or not registry.needs_upcast(type_name, int(meta.get("schema_version", 1))):
        return None
    meta.update(type=type_name, stream_id=stream_id, stream_version=int(version), position=int(position))
    try:
        return from_dict_all({"metadata": meta, "data": data}, registry)
    except MalformedMessage as exc:
        raise StoredEventCorrupt(stream_id, version, f"{type_name} v{meta.get('schema_version')}: {exc}") from None


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode()
    return str(value)


@lru_cache(maxsize=512)
def _envelope_type(cls: type[Message]) -> type[Envelope[Message]]:
    """``Envelope[cls]``: the envelope validator that builds ``cls`` as its message."""
    return Envelope[cls]  # type: ignore[valid-type]
