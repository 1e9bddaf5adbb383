"""A hung service as its clients see it: a TCP server on 127.0.0.1 that accepts connections and never answers.

A broker frozen by SIGSTOP, a deadlock or a full disk looks exactly like this from outside, and the shared services
on the machine are never touched.
"""

from __future__ import annotations

import socket
import threading
from types import TracebackType


class FrozenServer:
    """Accepts every connection, reads nothing, sends nothing; ``close()`` drops them all."""

    def __init__(self) -> None:
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self._listener.settimeout(0.2)  # so the accept loop notices close()
        self.port: int = self._listener.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._accept_forever, name="frozen-server", daemon=True)
        self._thread.start()

    def _accept_forever(self) -> None:
        while not self._closing.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted.append(connection)

    def close(self) -> None:
        """Stop accepting and close every connection (idempotent)."""
        self._closing.set()
        self._thread.join(timeout=5)
        self._listener.close()
        for connection in self.accepted:
            connection.close()

    def __enter__(self) -> FrozenServer:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (bound for a moment, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
