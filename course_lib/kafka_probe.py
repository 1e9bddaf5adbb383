"""Ask a Kafka-protocol endpoint what it is: Apache Kafka, Tansu, or not Kafka at all.

The first question is a raw ApiVersions (v0) request over a socket with a hard timeout, so a port held by some
other program answers "not Kafka" in milliseconds instead of leaving a client library retrying for 30 s. When it
fails, :class:`KafkaProbeFailed` says how (nothing listens, hung, unknown host, not Kafka) and what fixes that.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass

from course_lib.errors import CourseError
from course_lib.failures import Advice, FailureKind, advise, host_port, network_cause

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


ADVICE: Advice = {
    FailureKind.REFUSED: (
        "nothing listens at {address} (connection refused)",
        "python -m course_lib services start   (or: docker compose up -d kafka)",
    ),
    FailureKind.UNREACHABLE: (
        "{address} did not accept a connection within {timeout_s:g} s",
        "correct the host and port in COURSE_KAFKA_BOOTSTRAP_SERVERS (a firewall may drop the packets)",
    ),
    FailureKind.TIMEOUT: (
        "{address} accepted the connection but did not answer a Kafka request within {timeout_s:g} s "
        "(a hung broker, or a program that does not speak Kafka)",
        "if the course's broker runs there it is hung: restart it (`python -m course_lib services stop`, then "
        "`python -m course_lib services start`; with Docker `docker compose restart kafka`); if another program "
        "holds port {port}, free it or set COURSE_KAFKA_BOOTSTRAP_SERVERS",
    ),
    FailureKind.DNS: (
        "cannot resolve the host {host!r}",
        "correct the host in COURSE_KAFKA_BOOTSTRAP_SERVERS; for the broker on this machine use 127.0.0.1:9092",
    ),
    FailureKind.PROTOCOL: (
        "{address} answers but does not speak Kafka{detail}",
        "free port {port} or set COURSE_KAFKA_BOOTSTRAP_SERVERS",
    ),
    FailureKind.OTHER: (
        "cannot connect to {address}{detail}",
        "python -m course_lib services start   (or: docker compose up -d kafka)",
    ),
}


class KafkaProbeFailed(CourseError):
    """The ApiVersions handshake failed; ``kind`` says how (refused, DNS, hung, not Kafka), ``fix`` what to do."""

    def __init__(self, kind: FailureKind, host: str, port: int, timeout_s: float, detail: object = "") -> None:
        self.kind = kind
        self.address = host_port(host, port)
        self.reason, self.fix = advise(kind, ADVICE, address=self.address, host=host, port=port,
                                       timeout_s=timeout_s, detail=f" ({detail})" if detail else "")
        super().__init__(f"{self.reason}. Fix: {self.fix}")


def _open(host: str, port: int, timeout_s: float) -> socket.socket:
    try:
        return socket.create_connection((host, port), timeout=timeout_s)
    except TimeoutError:
        raise KafkaProbeFailed(FailureKind.UNREACHABLE, host, port, timeout_s) from None
    except OSError as exc:
        kind = network_cause(exc) or FailureKind.OTHER
        raise KafkaProbeFailed(kind, host, port, timeout_s, exc if kind is FailureKind.OTHER else "") from None


def ask_versions(host: str, port: int, timeout_s: float = 2.0) -> dict[int, tuple[int, int]]:
    """``{api key: (min version, max version)}`` the endpoint supports; ``KafkaProbeFailed`` within about
    ``2 * timeout_s`` when it cannot say."""
    client_id = b"course-probe"
    body = struct.pack(">hhih", _API_VERSIONS, 0, 7, len(client_id)) + client_id
    with _open(host, port, timeout_s) as sock:
        try:
            sock.settimeout(timeout_s)
            sock.sendall(struct.pack(">i", len(body)) + body)
            (size,) = struct.unpack(">i", _recv_exact(sock, 4))
            if not 10 <= size <= 1_000_000:
                raise KafkaProbeFailed(FailureKind.PROTOCOL, host, port, timeout_s)
            payload = _recv_exact(sock, size)
        except TimeoutError:
            raise KafkaProbeFailed(FailureKind.TIMEOUT, host, port, timeout_s) from None
        except (OSError, struct.error) as exc:
            raise KafkaProbeFailed(FailureKind.PROTOCOL, host, port, timeout_s, exc) from None
    correlation_id, error_code, count = struct.unpack(">ihi", payload[:10])
    if correlation_id != 7 or error_code != 0 or not 0 < count < 1000 or len(payload) < 10 + 6 * count:
        raise KafkaProbeFailed(FailureKind.PROTOCOL, host, port, timeout_s)
    entries = (struct.unpack(">hhh", payload[10 + 6 * i : 16 + 6 * i]) for i in range(count))
    return {key: (low, high) for key, low, high in entries}


def ask_api_versions(host: str, port: int, timeout_s: float = 2.0) -> frozenset[int]:
    """The API keys the endpoint supports; ``KafkaProbeFailed`` within about ``2 * timeout_s`` when it cannot say."""
    return frozenset(ask_versions(host, port, timeout_s))


def api_versions(host: str, port: int, timeout_s: float = 2.0) -> dict[int, tuple[int, int]] | None:
    """``{api key: (min version, max version)}`` the endpoint supports, or None when it does not answer like Kafka."""
    try:
        return ask_versions(host, port, timeout_s)
    except KafkaProbeFailed:
        return None


def api_keys(host: str, port: int, timeout_s: float = 2.0) -> frozenset[int] | None:
    """The API keys the endpoint supports, or None when it does not answer like a Kafka broker."""
    try:
        return ask_api_versions(host, port, timeout_s)
    except KafkaProbeFailed:
        return None


def identify(bootstrap: str, timeout_s: float = 2.0) -> KafkaIdentity:
    """Identify the broker at ``bootstrap``'s first server; ``KafkaProbeFailed`` says why it cannot."""
    host, _, port = bootstrap.split(",")[0].strip().rpartition(":")
    keys = ask_api_versions(host, int(port), timeout_s)
    flavour = "apache-kafka" if _CREATE_PARTITIONS in keys else "tansu"
    return KafkaIdentity(flavour=flavour, cluster_id=_cluster_id(bootstrap, timeout_s), api_keys=keys)


def identify_kafka(bootstrap: str, timeout_s: float = 2.0) -> KafkaIdentity | None:
    """Identify the broker at ``bootstrap``; None when the port is closed or it does not speak Kafka."""
    try:
        return identify(bootstrap, timeout_s)
    except KafkaProbeFailed:
        return None


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
