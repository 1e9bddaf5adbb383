"""The read side of the row format: rows become envelopes (or just their messages), each column decoded on its own.

A row's ``metadata`` and ``data`` texts are validated separately — the metadata by ``Metadata``'s own field rules,
the data by the registered class, each in one pydantic-core call straight from its JSON text — and the row's
columns (type, stream, version, position) are set last, so no text in a damaged column can move an event to
another stream or place. Anything that does not validate is ``StoredEventCorrupt`` naming the stream, the version
and the global position. Old schema versions go through the registry's upcasters (the slower dict path).

Speed: the validated parts are put together without validating them a second time (the instances are built the
way ``BaseModel.model_construct`` builds them, minus its per-field loop, through the slots' own setters, and every
metadata and every envelope shares one set of field names: the models are frozen, so nothing adds to it in place),
and the cyclic garbage collector is paused for a page: a page builds thousands of small objects that all stay
reachable, so its passes would find nothing to free.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import SchemaValidator, core_schema

from course_lib.eventstore.base import StoredEventCorrupt
from course_lib.eventstore.records import METADATA_FIELDS, error_location
from course_lib.messages import Envelope, MalformedMessage, Message, Metadata, Registry, from_dict_all

Row = Sequence[Any]
"""``(stream_id, version, position, type, metadata_text, data_text)``."""

_new = object.__new__
# BaseModel's slots, set through their descriptors: cheaper than object.__setattr__ looking each name up
_set_dict = BaseModel.__dict__["__dict__"].__set__
_set_fields = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__
_METADATA_SET = set(METADATA_FIELDS)  # every field counts as set in an envelope read back (the text omits defaults)
_ENVELOPE_SET = {"metadata", "message"}


class RowDecoder:
    """Decodes pages of rows with one registry (read at each page, so classes and upcasters added later count)."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    def envelopes(self, rows: Iterable[Row]) -> list[Envelope[Message]]:
        """The stored envelopes, with stream id, stream version and global position from the row's columns."""
        return self._decode(rows, as_envelopes=True)  # type: ignore[return-value]

    def messages(self, rows: Iterable[Row]) -> list[Message]:
        """Only the messages (what rehydrating an aggregate needs); every column is validated all the same."""
        return self._decode(rows, as_envelopes=False)  # type: ignore[return-value]

    def _decode(self, rows: Iterable[Row], *, as_envelopes: bool) -> list[Any]:
        out: list[Any] = []
        rows = rows if isinstance(rows, list) else list(rows)
        if not rows:
            return out
        registry = self.registry
        upcasted = registry.upcasted_types()
        types: dict[str, tuple[Any, int, type[Envelope[Message]]]] = {}
        validate_metadata, new = _STORED_METADATA.validate_json, _new
        set_dict, set_fields, set_extra, set_private = _set_dict, _set_fields, _set_extra, _set_private
        metadata_set, envelope_set = _METADATA_SET, _ENVELOPE_SET
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            for stream_id, version, position, type_name, meta_text, data_text in rows:
                if not (type(version) is int and type(position) is int and version > 0 and position > 0
                        and type(type_name) is str and type(stream_id) is str):
                    raise StoredEventCorrupt(str(stream_id), version, f"the row's own columns are invalid (type "
                                             f"{type_name!r}, version {version!r}, position {position!r})", position)
                try:
                    values = validate_metadata(meta_text)[0]
                except (ValidationError, TypeError) as exc:
                    raise StoredEventCorrupt(stream_id, version, _reason("metadata", exc), position) from None
                if values["correlation_id"] is None:
                    values["correlation_id"] = values["message_id"]
                schema_version = values["schema_version"]
                if type_name in upcasted and registry.needs_upcast(type_name, schema_version):
                    upgraded = self._upcast(stream_id, version, position, type_name, values, data_text)
                    out.extend(upgraded if as_envelopes else [env.message for env in upgraded])
                    continue
                known = types.get(type_name)
                if known is None:
                    cls = registry.resolve(type_name)
                    known = types[type_name] = (cls.__pydantic_validator__.validate_json, cls.schema_version,
                                                _envelope_type(cls))
                validate_data, current_version, envelope_type = known
                if schema_version != current_version:
                    # Fields may happen to fit, but the meaning may not: an old version needs its upcaster.
                    raise StoredEventCorrupt(
                        stream_id, version, f"{type_name} is stored as schema v{schema_version} but the class is "
                        f"v{current_version}: register an upcaster from v{schema_version}", position)
                try:
                    message = validate_data(data_text)
                except (ValidationError, TypeError) as exc:
                    raise StoredEventCorrupt(stream_id, version, _reason(f"{type_name} data", exc), position) from None
                if not as_envelopes:
                    out.append(message)
                    continue
                values["type"] = type_name
                values["stream_id"] = stream_id
                values["stream_version"] = version
                values["position"] = position
                # built as model_construct builds instances, written out: this loop is the hot path of every read
                metadata = new(Metadata)
                set_dict(metadata, values)
                set_fields(metadata, metadata_set)
                set_extra(metadata, None)
                set_private(metadata, None)
                env = new(envelope_type)
                set_dict(env, {"metadata": metadata, "message": message})
                set_fields(env, envelope_set)
                set_extra(env, None)
                set_private(env, None)
                out.append(env)
        finally:
            if was_enabled:
                gc.enable()
        return out

    def _upcast(self, stream_id: str, version: int, position: int, type_name: str, values: dict[str, Any],
                data_text: Any) -> list[Envelope[Message]]:
        """An old-schema row through the registry's upcasters (it may split into several events)."""
        try:
            data = json.loads(data_text)
        except (ValueError, TypeError) as exc:
            raise StoredEventCorrupt(stream_id, version, f"{type_name} data is not JSON: {exc}", position) from None
        metadata = {**values, "type": type_name, "stream_id": stream_id, "stream_version": version,
                    "position": position}
        try:
            return from_dict_all({"metadata": metadata, "data": data}, self.registry)
        except MalformedMessage as exc:
            raise StoredEventCorrupt(stream_id, version, f"{type_name} v{values['schema_version']}: {exc}",
                                     position) from None


def _reason(column: str, exc: Exception) -> str:
    if isinstance(exc, TypeError):
        return f"{column}: expected JSON text, got {exc}"
    error = exc.errors()[0]  # type: ignore[attr-defined]
    where = error_location(error)
    return f"{column} field {where}: {error['msg']}" if where else f"{column}: {error['msg']}"


def _stored_metadata_validator() -> SchemaValidator:
    """``Metadata``'s own field rules for the metadata column, where ``type`` is absent (the row's column holds
    it) and so may be ``correlation_id`` (absent: the message started its own conversation, the reader fills in
    the message id); validating gives ``(values, extra, fields_set)``."""
    schema = Metadata.__pydantic_core_schema__
    if schema["type"] != "model" or schema["schema"]["type"] != "model-fields":
        raise RuntimeError("Metadata's pydantic schema changed shape: update eventstore.decoding")
    fields_schema = dict(schema["schema"])
    fields = dict(fields_schema["fields"])
    for name, default in (("type", ""), ("correlation_id", None)):  # an explicit null stays an error
        fields[name] = core_schema.model_field(core_schema.with_default_schema(fields[name]["schema"],
                                                                               default=default))
    fields_schema["fields"] = fields
    return SchemaValidator(fields_schema, schema.get("config"))  # type: ignore[arg-type]


def _check_assemblable(cls: type[BaseModel]) -> None:
    """Building instances from validated values is only right for plain models: no post-init hook, no private
    attributes, no extra fields; and frozen, since the instances share one set of field names."""
    if (cls.__pydantic_post_init__ or cls.__private_attributes__ or cls.__pydantic_root_model__
            or cls.model_config.get("extra") == "allow" or not cls.model_config.get("frozen")):
        raise RuntimeError(f"{cls.__name__} cannot be assembled from validated parts: update eventstore.decoding")


@lru_cache(maxsize=512)
def _envelope_type(cls: type[Message]) -> type[Envelope[Message]]:
    """``Envelope[cls]``: the envelope class whose message is a ``cls``."""
    envelope_type: type[Envelope[Message]] = Envelope[cls]  # type: ignore[valid-type]
    _check_assemblable(envelope_type)
    return envelope_type


_STORED_METADATA = _stored_metadata_validator()
_check_assemblable(Metadata)
