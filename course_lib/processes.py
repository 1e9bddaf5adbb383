"""Real crashes for the notebooks: run a Python module in a child process and SIGKILL it at a chosen moment.

An in-process "crash" (an exception, an ``abort()``) still runs ``finally`` blocks, closes sockets politely and
says goodbye to the broker. A killed process does none of that — which is what an OOM kill, a power cut or
``kill -9`` during a deploy does. The child prints a marker line when it reaches the moment to die at and then
waits; the parent reads that line (with a timeout: nothing here can hang) and kills it.
"""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from course_lib.errors import CourseError

KILLED_BY_SIGKILL = -9  # Popen.returncode of a child killed by SIGKILL (POSIX)


@dataclass(frozen=True)
class KilledChild:
    """What a killed child said before it died, and how it ended."""

    marker_line: str  # the line that announced the moment (the marker and what follows it)
    output: list[str]  # every stdout line before the marker
    returncode: int

    @property
    def detail(self) -> str:
        """The marker line without the marker: what the child reported at the moment it was killed."""
        return self.marker_line.partition(" ")[2]


def _pump(stream: object, lines: queue.Queue[str | None]) -> None:
    for line in iter(stream.readline, ""):  # type: ignore[attr-defined]
        lines.put(line.rstrip("\n"))
    lines.put(None)


def kill_at_marker(module: str, args: Sequence[str], marker: str, *, timeout: float = 30.0) -> KilledChild:
    """Run ``python -m module args…``; SIGKILL it as soon as it prints a line starting with ``marker``.

    Raises ``CourseError`` with the child's stderr when it exits, or stays silent for ``timeout`` seconds,
    before printing the marker.
    """
    proc = subprocess.Popen([sys.executable, "-m", module, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_pump, args=(proc.stdout, lines), daemon=True).start()
    before: list[str] = []
    try:
        while True:
            try:
                line = lines.get(timeout=timeout)
            except queue.Empty:
                raise CourseError(f"{module} printed nothing for {timeout:.0f} s before {marker!r}: it hangs; "
                                  f"look at its stderr:\n{_stderr_after_kill(proc)}") from None
            if line is None:
                raise CourseError(f"{module} exited (code {proc.wait(timeout=timeout)}) before {marker!r}:\n"
                                  f"{_stderr_after_kill(proc)}")
            if line.startswith(marker):
                proc.kill()  # SIGKILL: no finally, no atexit, no goodbye to any broker
                return KilledChild(line, before, proc.wait(timeout=timeout))
            before.append(line)
    finally:
        reap(proc, timeout)


def reap(proc: subprocess.Popen[str], timeout: float = 30.0) -> None:
    """Make sure a child is gone (kill it if it still runs) and close its pipes."""
    if proc.poll() is None:
        proc.kill()
        proc.wait(timeout=timeout)
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None and not stream.closed:
            stream.close()


def _stderr_after_kill(proc: subprocess.Popen[str]) -> str:
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=10)
    text = proc.stderr.read() if proc.stderr is not None else ""
    return text.strip()[-2000:] or "(no stderr)"
