"""The row format every backend shares.

A stored event is one row: ``position, stream_id, version, message_id, type, metadata, data``. ``metadata`` is the
envelope's metadata as JSON *without* the fields the row itself holds (type, stream, version, position), so the
columns are the single source of truth for what an event is and where it sits, and without what a reader can
tell without it — fields at their default (``schema_version`` 1, no ``causation_id``) and a ``correlation_id``
equal to the ``message_id`` (a message that starts its own conversation): fewer bytes to write and to parse.
``data`` is the message as JSON.
Writing rows: ``encoding``; reading them: ``decoding``.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic_core import ErrorDetails, from_json

from course_lib.eventstore.base import Snapshot, SnapshotNotStorable
from course_lib.messages import Envelope, Message, Metadata

ROW_FIELDS: set[str] = {"type", "stream_id", "stream_version", "position"}
"""Metadata fields that the row's own columns hold."""

METADATA_FIELDS = frozenset(Metadata.model_fields)
"""Every metadata field: all of them are set in an envelope read back (the stored text omits defaults)."""


def check_stream_id(stream_id: object) -> str:
    """A stream id is a non-empty string."""
    if not isinstance(stream_id, str) or not stream_id:
        raise ValueError(f"stream_id must be a non-empty string, got {stream_id!r}")
    return stream_id


def stored(env: Envelope[Message], stream_id: str, version: int, position: int) -> Envelope[Message]:
    """The envelope as the store returns it: with stream id, stream version and global position set."""
    return env.with_metadata(stream_id=stream_id, stream_version=version, position=position)


def error_location(error: ErrorDetails | dict[str, Any]) -> str:
    """A pydantic error's location as a dotted path (``history.1``); empty for the whole value."""
    return ".".join(str(part) for part in error["loc"])


def snapshot_text(snapshot: Snapshot) -> str:
    """The snapshot's state as the JSON text every store keeps; ``SnapshotNotStorable`` when it is not JSON."""
    try:
        return json.dumps(snapshot.state)
    except (TypeError, ValueError) as exc:
        raise SnapshotNotStorable(snapshot, str(exc)) from None


def snapshot_from_row(stream_id: str, version: int, type_name: str, state_text: str | bytes) -> Snapshot:
    """A stored snapshot; its state is parsed by pydantic-core (a third faster than ``json.loads``)."""
    return Snapshot(stream_id=stream_id, version=version, type=type_name, state=from_json(state_text))
