"""The course signals only the broker it started: a pid file pointing at any other process is refused.

Each foreign process here is a harmless Python sleeper whose command line even says "tansu broker", the way an
unrelated program could after the pid was reused. Stopping must leave it running.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from course_lib.config import Settings
from course_lib.ops.services import kafka_broker
from course_lib.ops.services.supervision import ProcessRecord, find_recorded
from tests.ports import free_port

SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)", "tansu", "broker"]



@pytest.fixture
def foreign() -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(SLEEPER, stdin=subprocess.DEVNULL)
    try:
        yield process
    finally:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(_env_file=None, kafka_bootstrap_servers=f"127.0.0.1:{free_port()}", state_dir=tmp_path)


def _pid_file(settings: Settings) -> Path:
    return settings.state_dir / "kafka-broker.pid"


def _write(path: Path, pid: int, create_time: float, cmdline: list[str], boot_time: float | None = None) -> None:
    boot_time = psutil.boot_time() if boot_time is None else boot_time
    path.write_text(json.dumps({"pid": pid, "create_time": create_time, "cmdline": cmdline, "boot_time": boot_time}))


def test_a_live_pid_with_another_start_time_is_not_signalled(foreign: subprocess.Popen[bytes],
                                                             settings: Settings) -> None:
    real = psutil.Process(foreign.pid)
    _write(_pid_file(settings), foreign.pid, real.create_time() - 3600, real.cmdline())  # the pid, reused
    assert kafka_broker.stop(settings, say=lambda _line: None) is False
    assert foreign.poll() is None, "stop() signalled a process the course did not start"
    assert not _pid_file(settings).exists(), "a foreign record must be deleted, not kept"


def test_a_live_pid_with_another_command_line_is_not_signalled(foreign: subprocess.Popen[bytes],
                                                               settings: Settings) -> None:
    real = psutil.Process(foreign.pid)
    _write(_pid_file(settings), foreign.pid, real.create_time(), ["/opt/tansu", "broker"])
    assert kafka_broker.status(settings).managed_pid is None
    assert kafka_broker.stop(settings, say=lambda _line: None) is False
    assert foreign.poll() is None


def test_a_bare_pid_file_is_not_trusted(foreign: subprocess.Popen[bytes], settings: Settings) -> None:
    # The old format: only a number. Without a start time nothing proves the process is ours.
    _pid_file(settings).write_text(str(foreign.pid))
    assert kafka_broker.stop(settings, say=lambda _line: None) is False
    assert foreign.poll() is None
    assert not _pid_file(settings).exists()


def test_the_recorded_process_itself_is_found_and_stopped(foreign: subprocess.Popen[bytes],
                                                          settings: Settings) -> None:
    ProcessRecord.of(foreign.pid, SLEEPER).write(_pid_file(settings))
    found = find_recorded(_pid_file(settings))
    assert found is not None and found.pid == foreign.pid
    said: list[str] = []
    assert kafka_broker.stop(settings, say=said.append) is True
    assert foreign.wait(timeout=10) is not None  # it exited: SIGTERM reached the recorded process
    assert any(line.startswith("waiting up to 10 s for the embedded Kafka broker") for line in said)


def test_the_recorded_process_is_still_found_after_the_clock_was_set(foreign: subprocess.Popen[bytes],
                                                                    settings: Settings) -> None:
    # Recorded before the system clock was set back 5 s: on Linux both the start time and the boot time that
    # psutil reports move by those 5 s, so only the time since boot still matches.
    real = psutil.Process(foreign.pid)
    _write(_pid_file(settings), foreign.pid, real.create_time() + 5, real.cmdline(), psutil.boot_time() + 5)
    found = find_recorded(_pid_file(settings))
    assert found is not None and found.pid == foreign.pid


def test_a_record_of_a_process_that_is_gone_is_cleared(settings: Settings) -> None:
    _write(_pid_file(settings), 2**22 + 12345, 1.0, ["tansu"])  # above the default pid_max: no such process
    assert find_recorded(_pid_file(settings)) is None
    assert not _pid_file(settings).exists()
