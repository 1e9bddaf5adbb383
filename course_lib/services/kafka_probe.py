"""Ask a Kafka-protocol endpoint what it is: Apache Kafka, Tansu, or not Kafka at all.

The first question is a raw ApiVersions (v0) request over a socket with a hard timeout, so a port held by some
other program answers "not Kafka" in milliseconds instead of leaving a client library retrying for 30 s.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass

# Apache Kafka has answered CreatePartitions (API key 37) since 1.0; Tansu does not implement it.
_CREATE_PARTITIONS = 37
_API_VERSIONS = 18


@dataclass(frozen=True)
class KafkaIdentity:
    """What a Kafka-protocol broker told us about itself."""

    flavour: str  # "apache-kafka" or "tansu"
    cluster_id: str
    api_keys: frozenset[int]


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("connection closed mid-response")
        data += chunk
    return data


def api_versions(host: str, port: int, timeout_s: float = 2.0) -> dict[int, tuple[int, int]] | None:
    """``{api key: (min version, max version)}`` the endpoint supports, or None when it does not answer like Kafka."""
    client_id = b"course-probe"
    body = struct.pack(">hhih", _API_VERSIONS, 0, 7, len(client_id)) + client_id
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as sock:
            sock.settimeout(timeout_s)
            sock.sendall(struct.pack(">i", len(body)) + body)
            (size,) = struct.unpack(">i", _recv_exact(sock, 4))
            if not 10 <= size <= 1_000_000:
                return None
            payload = _recv_exact(sock, size)
    except (OSError, ConnectionError, struct.error):
        return None
    correlation_id, error_code, count = struct.unpack(">ihi", payload[:10])
    if correlation_id != 7 or error_code != 0 or not 0 < count < 1000 or len(payload) < 10 + 6 * count:
        return None
    entries = (struct.unpack(">hhh", payload[10 + 6 * i : 16 + 6 * i]) for i in range(count))
    return {key: (low, high) for key, low, high in entries}


def api_keys(host: str, port: int, timeout_s: float = 2.0) -> frozenset[int] | None:
    """The API keys the endpoint supports, or None when it does not answer like a Kafka broker."""
    versions = api_versions(host, port, timeout_s)
    return None if versions is None else frozenset(versions)


def identify_kafka(bootstrap: str, timeout_s: float = 2.0) -> KafkaIdentity | None:
    """Identify the broker at ``bootstrap``; None when the port is closed or it does not speak Kafka."""
    host, _, port = bootstrap.split(",")[0].strip().rpartition(":")
    keys = api_keys(host, int(port), timeout_s)
    if keys is None:
        return None
    flavour = "apache-kafka" if _CREATE_PARTITIONS in keys else "tansu"
    return KafkaIdentity(flavour=flavour, cluster_id=_cluster_id(bootstrap, timeout_s), api_keys=keys)


def _cluster_id(bootstrap: str, timeout_s: float) -> str:
    from kafka.admin import KafkaAdminClient

    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=int(timeout_s * 1000),
                                 client_id="course-probe")
    except Exception:
        return "?"
    try:
        return str(admin.describe_cluster().get("cluster_id"))
    except Exception:
        return "?"
    finally:
        admin.close()


def is_tansu(bootstrap: str) -> bool:
    """True when the broker at ``bootstrap`` is the embedded Tansu broker (detected, not guessed)."""
    identity = identify_kafka(bootstrap)
    return identity is not None and identity.flavour == "tansu"
