from __future__ import annotations

import socket
import time

import pytest

from course_lib import pg
from course_lib.errors import ServiceUnavailable


def test_a_closed_port_fails_fast_naming_the_url_without_password_and_the_fix() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    started = time.monotonic()
    with pytest.raises(ServiceUnavailable) as caught:
        pg.connect(f"postgresql://postgres:secret@127.0.0.1:{port}/test")
    assert time.monotonic() - started < 10
    message = str(caught.value)
    assert f"127.0.0.1:{port}" in message and "secret" not in message
    assert "COURSE_POSTGRES_URL" in message
