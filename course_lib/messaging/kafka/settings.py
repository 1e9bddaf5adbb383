"""Client settings that behave the same on Apache Kafka and on the embedded Tansu broker.

Tansu holds every group join for ``session_timeout_ms / 2``; 6 s (with a 1 s heartbeat) keeps the first assignment
near 3 s on Tansu and is a valid, quick-to-detect-failure setting on Apache Kafka too. A 100 ms fetch wait makes
demos feel live without busy polling.
"""

from __future__ import annotations

from typing import Any

from course_lib.config import get_settings

SESSION_TIMEOUT_MS = 6_000
HEARTBEAT_INTERVAL_MS = 1_000
FETCH_MAX_WAIT_MS = 100

CONSUMER_DEFAULTS: dict[str, Any] = {
    "session_timeout_ms": SESSION_TIMEOUT_MS,
    "heartbeat_interval_ms": HEARTBEAT_INTERVAL_MS,
    "fetch_max_wait_ms": FETCH_MAX_WAIT_MS,
    "enable_auto_commit": False,  # commits happen after processing, never on a timer
    "auto_offset_reset": "earliest",  # Tansu's 'latest' is wrong for multi-record batches
}

PRODUCER_DEFAULTS: dict[str, Any] = {
    "acks": "all",
    "enable_idempotence": True,  # this producer's retries cannot duplicate or reorder a partition's records
    # (per producer session: a restarted producer gets a new producer id, and its re-sends are new records)
    "linger_ms": 5,
}


def bootstrap_or_default(bootstrap: str | None) -> str:
    """``bootstrap`` or the configured ``COURSE_KAFKA_BOOTSTRAP_SERVERS``."""
    return bootstrap or get_settings().kafka_bootstrap_servers
