"""Header names the same on both brokers, so a message published on either carries its causation and schema version
where tools that do not parse the body can see them.

Kafka records written before these names existed carry ``causation_id`` instead; ``causation_id()`` still reads it,
so old topics replay.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from course_lib.messages import Envelope

CAUSATION_ID = "x-causation-id"
SCHEMA_VERSION = "x-schema-version"
LEGACY_CAUSATION_ID = "causation_id"  # Kafka records of earlier course versions


def trace_headers(env: Envelope[Any]) -> dict[str, int | str]:
    """The causation and schema-version headers of ``env`` (no causation header for a message nothing caused).

    The schema version is an int: AMQP headers keep it one; Kafka header values are bytes, so it travels as text.
    """
    meta = env.metadata
    headers: dict[str, int | str] = {SCHEMA_VERSION: meta.schema_version}
    if meta.causation_id is not None:
        headers[CAUSATION_ID] = str(meta.causation_id)
    return headers


def causation_id(headers: Mapping[str, Any]) -> Any:
    """The causation id from headers written under the current name or the old Kafka one (None if neither)."""
    value = headers.get(CAUSATION_ID)
    return headers.get(LEGACY_CAUSATION_ID) if value is None else value
