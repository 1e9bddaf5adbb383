"""Tiny TCP helpers: is a port open, wait until it is (saying so first, and for how long at most)."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

Say = Callable[[str], None]
"""Where progress lines go: ``print`` on the command line, a list's ``append`` in tests."""


def say_flushed(line: str) -> None:
    """Print one progress line at once, even when stdout is a pipe (make, CI logs)."""
    print(line, flush=True)


def port_open(host: str, port: int, timeout: float = 1.0) -> bool:
    """True when something accepts TCP connections at host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for_port(host: str, port: int, *, timeout: float, open_: bool = True, what: str = "",
                  say: Say | None = None) -> bool:
    """Wait until the port is open (or closed, with ``open_=False``); False when the timeout passes first.

    With ``say``, first announces "waiting up to N s for <what>", so a slow start never looks like a hang.
    """
    if say is not None:
        target = what or f"{host}:{port} to {'open' if open_ else 'close'}"
        say(f"waiting up to {timeout:.0f} s for {target}")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(host, port, timeout=0.5) == open_:
            return True
        time.sleep(0.1)  # polling a socket, not synchronising on a message
    return port_open(host, port, timeout=0.5) == open_
