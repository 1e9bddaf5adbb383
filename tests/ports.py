"""A free loopback port: nothing listens there, so it stands in for a service that is not running.

The port lies below the range the kernel hands out as source ports of outgoing connections (on Linux
``/proc/sys/net/ipv4/ip_local_port_range``, usually 32768–60999; on macOS and Windows 49152–65535). A port from
that range (what binding port 0 returns) can be "answered" by the client itself: a connection to 127.0.0.1:P that
the kernel happens to give the source port P connects to itself (a TCP self-connect), and the check under test then
sees its own bytes come back instead of "connection refused". Outside that range no connection can start there.
"""

from __future__ import annotations

import contextlib
import random
import socket
from collections.abc import Iterator
from pathlib import Path

_LOWEST = 20_000  # above the ports services are configured on (5432, 5672, 9092, 15672 …)
_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")


def _first_outgoing_port() -> int:
    """The lowest port the kernel may give an outgoing connection (32768 where it cannot be read)."""
    try:
        low = int(_RANGE_FILE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32_768
    return min(low, 32_768)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now and no outgoing connection can start from (for a
    server the test starts; for a port that must stay closed, use ``holding_closed_port``)."""
    with socket.socket() as sock:
        return _bind_free(sock)


@contextlib.contextmanager
def holding_closed_port() -> Iterator[int]:
    """A loopback port that refuses every connection while the block runs: bound but never listening, so no other
    program (a kernel's ZeroMQ sockets, another test's server) can start listening there meanwhile."""
    with socket.socket() as sock:
        yield _bind_free(sock)


def _bind_free(sock: socket.socket) -> int:
    highest = _first_outgoing_port() - 1
    if highest <= _LOWEST:  # every port may start a connection here: take any free one
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
    rng = random.Random()
    for _ in range(200):
        port = rng.randint(_LOWEST, highest)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            continue  # taken: try another
        return port
    raise RuntimeError(f"no free loopback port between {_LOWEST} and {highest} after 200 tries")
