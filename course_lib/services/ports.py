"""Tiny TCP helpers: is a port open, wait until it is."""

from __future__ import annotations

import socket
import time


def port_open(host: str, port: int, timeout: float = 1.0) -> bool:
    """True when something accepts TCP connections at host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for_port(host: str, port: int, *, timeout: float, open_: bool = True) -> bool:
    """Wait until the port is open (or closed, with ``open_=False``); False when the timeout passes first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(host, port, timeout=0.5) == open_:
            return True
        time.sleep(0.1)  # polling a socket, not synchronising on a message
    return port_open(host, port, timeout=0.5) == open_
