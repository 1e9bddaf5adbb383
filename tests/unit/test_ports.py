"""The tests' stand-in for a service that is not running: a port that refuses connections and nobody can take."""

from __future__ import annotations

import socket

import pytest

from tests.ports import _first_outgoing_port, free_port, holding_closed_port


def test_a_free_port_lies_below_the_ports_outgoing_connections_start_from() -> None:
    ports = {free_port() for _ in range(20)}
    assert all(20_000 <= port < _first_outgoing_port() for port in ports)
    assert len(ports) > 1  # chosen at random, so parallel tests rarely pick the same one


def test_a_held_closed_port_refuses_connections_and_cannot_be_taken() -> None:
    with holding_closed_port() as port:
        with socket.socket() as client, pytest.raises(ConnectionRefusedError):
            client.connect(("127.0.0.1", port))
        with socket.socket() as squatter, pytest.raises(OSError):
            squatter.bind(("127.0.0.1", port))  # a kernel's or another test's server cannot listen there meanwhile
    with socket.socket() as later:
        later.bind(("127.0.0.1", port))  # released when the block ends
