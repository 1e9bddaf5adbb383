"""Events and commands as immutable pydantic models, their envelope metadata, a type registry, and JSON.

- An **event** is a fact that happened (past tense: ``OrderPlaced``); a **command** asks for something to happen
  (imperative: ``PlaceOrder``). Both are frozen: a fact cannot be edited after the fact.
- The **envelope** carries what is true of the message rather than of the domain: its id, type name, schema
  version, when it occurred, which stream and version it belongs to, its global position once stored, and the
  correlation/causation ids that let us trace one business transaction across services.
- The **registry** maps type names to classes so a reader can turn JSON back into the right class. No pickle:
  JSON is readable by any language and cannot execute code.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from course_lib.clock import Clock, IdFactory, random_ids, system_clock
from course_lib.errors import CourseError


class Message(BaseModel):
    """Base of events and commands: frozen, no unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    schema_version: ClassVar[int] = 1

    @classmethod
    def type_name(cls) -> str:
        """The name stored with the message; by default the class name."""
        return getattr(cls, "_type_name", None) or cls.__name__


class Event(Message):
    """A fact that happened. Name it in the past tense."""


class Command(Message):
    """A request for something to happen. Name it in the imperative."""


M = TypeVar("M", bound=Message)
N = TypeVar("N", bound=Message)
T = TypeVar("T", bound=type[Message])


class UnknownMessageType(CourseError):
    """A stored or received message names a type the registry does not know."""

    def __init__(self, type_name: str, known: list[str], *, before: str = "reading it") -> None:
        self.type_name = type_name
        shown = ", ".join(sorted(known)[:12]) + (" …" if len(known) > 12 else "")
        super().__init__(
            f"Unknown message type {type_name!r}: the registry knows [{shown}]. "
            f"Register the class with @registry.register (or registry.add(YourEvent)) before {before}."
        )


class MalformedMessage(CourseError):
    """Bytes that are not a valid envelope: not JSON, missing fields, or failing validation."""


@dataclass(frozen=True)
class RawEvent:
    """A message as stored: type name, schema version and plain data — what upcasters transform."""

    type: str
    schema_version: int
    data: dict[str, Any]


UpcastFn = Callable[[RawEvent], "RawEvent | list[RawEvent]"]


class Registry:
    """Maps type names to message classes, and (type, schema version) to upcasters."""

    def __init__(self) -> None:
        self._classes: dict[str, type[Message]] = {}
        self._upcasters: dict[tuple[str, int], UpcastFn] = {}

    def add(self, cls: type[Message], name: str | None = None) -> type[Message]:
        """Register ``cls`` under ``name`` (default: its class name). Re-adding the same class is harmless."""
        type_name = name or cls.type_name()
        existing = self._classes.get(type_name)
        if existing is not None and existing is not cls and existing.__qualname__ != cls.__qualname__:
            raise CourseError(f"Type name {type_name!r} is already registered for {existing.__qualname__}")
        if name:
            cls._type_name = name  # type: ignore[attr-defined]
        self._classes[type_name] = cls
        return cls

    def register(self, cls: T) -> T:
        """Class decorator: ``@registry.register``."""
        self.add(cls)
        return cls

    def resolve(self, type_name: str) -> type[Message]:
        """The class registered under ``type_name``; ``UnknownMessageType`` otherwise."""
        try:
            return self._classes[type_name]
        except KeyError:
            raise UnknownMessageType(type_name, list(self._classes)) from None

    def __contains__(self, type_name: object) -> bool:
        return type_name in self._classes

    def names(self) -> list[str]:
        """Every registered type name, sorted."""
        return sorted(self._classes)

    def add_upcaster(self, type_name: str, from_version: int, upcast: UpcastFn) -> None:
        """Upgrade stored ``type_name`` events of ``from_version``; the result must have a higher version."""
        if (type_name, from_version) in self._upcasters:
            raise CourseError(f"An upcaster for {type_name} v{from_version} is already registered")
        self._upcasters[(type_name, from_version)] = upcast

    def upcasted_types(self) -> frozenset[str]:
        """Type names that have at least one upcaster (a cheap pre-check for readers)."""
        return frozenset(type_name for type_name, _ in self._upcasters)

    def needs_upcast(self, type_name: str, schema_version: int) -> bool:
        """True when a stored event of this type and version has an upcaster to apply."""
        return (type_name, schema_version) in self._upcasters

    def upcast_steps(self, raw: RawEvent) -> list[list[RawEvent]]:
        """Every stage a stored event passes through, oldest first: ``[[raw], [v2], [v3a, v3b], …]``."""
        stages = [[raw]]
        while True:
            current = stages[-1]
            changed = False
            following: list[RawEvent] = []
            for item in current:
                upcast = self._upcasters.get((item.type, item.schema_version))
                if upcast is None:
                    following.append(item)
                    continue
                result = upcast(item)
                outputs = result if isinstance(result, list) else [result]
                for out in outputs:
                    if (out.type, out.schema_version) == (item.type, item.schema_version):
                        raise CourseError(f"the upcaster for {item.type} v{item.schema_version} did not change "
                                          "the version: each upcaster must produce a newer schema_version")
                following.extend(outputs)
                changed = True
            if not changed:
                return stages
            stages.append(following)

    def upcast(self, raw: RawEvent) -> list[RawEvent]:
        """The current form of a stored event (usually one event; two or more when an upcaster splits it)."""
        return self.upcast_steps(raw)[-1]


registry = Registry()
"""The default registry; the shop's messages register themselves here on import."""


class Metadata(BaseModel):
    """What is true of a message rather than of the domain."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    message_id: uuid.UUID
    type: str
    schema_version: int = 1
    occurred_at: datetime
    correlation_id: uuid.UUID
    causation_id: uuid.UUID | None = None
    stream_id: str | None = None
    stream_version: int | None = Field(default=None, ge=1)
    position: int | None = Field(default=None, ge=1)


class Envelope(BaseModel, Generic[M]):
    """A message with its metadata: what gets stored and sent."""

    model_config = ConfigDict(frozen=True)

    metadata: Metadata
    message: M

    @property
    def message_id(self) -> uuid.UUID:
        return self.metadata.message_id

    @property
    def type(self) -> str:
        return self.metadata.type

    def caused(
        self, message: N, *, clock: Clock = system_clock, ids: IdFactory = random_ids, **metadata: Any
    ) -> Envelope[N]:
        """Wrap a message caused by this one: same correlation id, causation id = this message's id."""
        return envelope(
            message, clock=clock, ids=ids, correlation_id=self.metadata.correlation_id,
            causation_id=self.metadata.message_id, **metadata,
        )

    def with_metadata(self, **changes: Any) -> Envelope[M]:
        """A copy with some metadata fields replaced (e.g. stream_version and position once stored)."""
        return Envelope(metadata=self.metadata.model_copy(update=changes), message=self.message)


def envelope(
    message: M,
    *,
    clock: Clock = system_clock,
    ids: IdFactory = random_ids,
    correlation_id: uuid.UUID | None = None,
    causation_id: uuid.UUID | None = None,
    stream_id: str | None = None,
    stream_version: int | None = None,
    message_id: uuid.UUID | None = None,
) -> Envelope[M]:
    """Wrap a message. A message that starts a conversation is its own correlation id."""
    message_id = message_id or ids()
    return Envelope(
        metadata=Metadata(
            message_id=message_id,
            type=type(message).type_name(),
            schema_version=type(message).schema_version,
            occurred_at=clock(),
            correlation_id=correlation_id or message_id,
            causation_id=causation_id,
            stream_id=stream_id,
            stream_version=stream_version,
        ),
        message=message,
    )


def to_dict(env: Envelope[Any]) -> dict[str, Any]:
    """The envelope as JSON-ready data: ``{"metadata": {...}, "data": {...}}``."""
    return {"metadata": env.metadata.model_dump(mode="json"), "data": env.message.model_dump(mode="json")}


def to_json(env: Envelope[Any]) -> str:
    """Serialize an envelope to compact JSON text."""
    return json.dumps(to_dict(env), separators=(",", ":"), sort_keys=False)


def to_bytes(env: Envelope[Any]) -> bytes:
    """Serialize an envelope to UTF-8 JSON bytes (for brokers)."""
    return to_json(env).encode()


def from_dict_all(data: dict[str, Any], reg: Registry = registry) -> list[Envelope[Message]]:
    """Rebuild the envelope(s) from ``to_dict`` output, upcasting old schema versions first.

    Usually one envelope; more when an upcaster splits an old event in two. Split events keep the stored event's
    stream version and position and get derived, stable message ids.
    """
    try:
        metadata = Metadata.model_validate(data["metadata"])
    except (KeyError, TypeError, ValidationError) as exc:
        raise MalformedMessage(f"envelope metadata is missing or invalid: {exc}") from exc
    payload = data.get("data", {})
    if not isinstance(payload, dict):
        raise MalformedMessage(f"{metadata.type} payload must be a JSON object, got {type(payload).__name__}")
    current = reg.upcast(RawEvent(metadata.type, metadata.schema_version, payload))
    envelopes: list[Envelope[Message]] = []
    for index, raw in enumerate(current):
        cls = reg.resolve(raw.type)
        try:
            message = cls.model_validate(raw.data)
        except ValidationError as exc:
            raise MalformedMessage(f"{raw.type} payload failed validation: {exc}") from exc
        changes: dict[str, Any] = {"type": raw.type, "schema_version": raw.schema_version}
        if len(current) > 1:
            changes["message_id"] = uuid.uuid5(metadata.message_id, f"split-{index}")
        upgraded = metadata.model_copy(update=changes) if changes != {
            "type": metadata.type, "schema_version": metadata.schema_version} else metadata
        envelopes.append(Envelope(metadata=upgraded, message=message))
    return envelopes


def from_dict(data: dict[str, Any], reg: Registry = registry) -> Envelope[Message]:
    """Rebuild one envelope from ``to_dict`` output (upcasting old versions); the registry picks the class."""
    envelopes = from_dict_all(data, reg)
    if len(envelopes) != 1:
        raise MalformedMessage(
            f"{data['metadata'].get('type')} upcasts into {len(envelopes)} events: read it with from_dict_all"
        )
    return envelopes[0]


def _json_object(text: str | bytes) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MalformedMessage(f"not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise MalformedMessage(f"expected a JSON object, got {type(data).__name__}")
    return data


def from_json(text: str | bytes, reg: Registry = registry) -> Envelope[Message]:
    """Parse JSON text or bytes into an envelope. Raises ``MalformedMessage`` or ``UnknownMessageType``."""
    return from_dict(_json_object(text), reg)


def routing_key(message_or_type: Message | type[Message] | str) -> str:
    """A dotted routing key from a type name: ``OrderPlaced`` → ``order.placed``."""
    if isinstance(message_or_type, str):
        name = message_or_type
    elif isinstance(message_or_type, Message):
        name = type(message_or_type).type_name()
    else:
        name = message_or_type.type_name()
    return ".".join(part.lower() for part in re.findall(r"[A-Z][a-z0-9]*|[a-z0-9]+", name))
