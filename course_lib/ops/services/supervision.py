"""Background processes the course starts, recorded so that it only ever signals its own.

A pid alone is not an identity: after a reboot or a long pause the same number can belong to any program of the
same user (on macOS nothing else tells them apart). The record keeps the pid, the process's start time and its
command line; before signalling, :func:`find_recorded` asks ``psutil`` for all three and refuses on any mismatch.

Start times are wall-clock times, which move when the system clock is set (on Linux psutil derives them from the
boot time, which shifts with every clock step). So the start time is also kept relative to the boot time, and
either one matching is enough: Linux keeps the relative one stable, macOS the absolute one.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

from course_lib.ops.services.ports import Say

# psutil reports start times rounded to the clock tick; a reused pid starts at least a tick later in practice.
_START_TIME_TOLERANCE_S = 0.05


@dataclass(frozen=True)
class ProcessRecord:
    """Who a pid file says the process is."""

    pid: int
    create_time: float
    cmdline: tuple[str, ...]
    boot_time: float = 0.0  # psutil.boot_time() when create_time was read

    @classmethod
    def of(cls, pid: int, argv: list[str]) -> ProcessRecord:
        """The record of a process just started with ``argv``.

        The command line is the one we passed, not one read back: right after ``exec`` the kernel may still show
        an empty one for a moment.
        """
        return cls(pid, psutil.Process(pid).create_time(), tuple(argv), psutil.boot_time())

    def write(self, path: Path) -> None:
        """Store the record as JSON, readable by a person who wants to stop the process by hand."""
        path.write_text(json.dumps({**asdict(self), "cmdline": list(self.cmdline)}) + "\n")

    @classmethod
    def read(cls, path: Path) -> ProcessRecord | None:
        """The stored record; None when there is none or it is not one (an old bare-pid file, say)."""
        try:
            data = json.loads(path.read_text())
            return cls(int(data["pid"]), float(data["create_time"]), tuple(str(a) for a in data["cmdline"]),
                       float(data.get("boot_time", 0.0)))
        except (OSError, ValueError, TypeError, KeyError):
            return None


def matches(process: psutil.Process, record: ProcessRecord) -> bool:
    """True when ``process`` is the one recorded: same start time and same command line."""
    try:
        with process.oneshot():
            if process.status() == psutil.STATUS_ZOMBIE:
                return False
            started, booted = process.create_time(), psutil.boot_time()
            since_boot = started - booted
            same_start = (abs(started - record.create_time) <= _START_TIME_TOLERANCE_S
                          or abs(since_boot - (record.create_time - record.boot_time)) <= _START_TIME_TOLERANCE_S)
            return same_start and tuple(process.cmdline()) == record.cmdline
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False


def find_recorded(path: Path) -> psutil.Process | None:
    """The live process the pid file at ``path`` records, or None. A stale or foreign record is deleted."""
    record = ProcessRecord.read(path)
    if record is None:
        path.unlink(missing_ok=True)  # unreadable, or a bare pid that proves nothing
        return None
    try:
        process = psutil.Process(record.pid)
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        process = None
    if process is not None and matches(process, record):
        return process
    path.unlink(missing_ok=True)  # the process is gone, or the pid now belongs to another program
    return None


def terminate(process: psutil.Process, *, timeout_s: float, what: str, say: Say) -> None:
    """SIGTERM, wait up to ``timeout_s``, then SIGKILL. Reaps the process when it is our child."""
    try:
        process.terminate()
        say(f"waiting up to {timeout_s:.0f} s for {what} (pid {process.pid}) to exit")
        process.wait(timeout=timeout_s)
    except psutil.NoSuchProcess:
        return
    except psutil.TimeoutExpired:
        say(f"{what} (pid {process.pid}) did not exit in {timeout_s:.0f} s; killing it")
        try:
            process.kill()
            process.wait(timeout=5)
        except psutil.NoSuchProcess:
            return
