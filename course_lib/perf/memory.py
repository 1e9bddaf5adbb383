"""Peak memory of one piece of work, measured in a fresh subprocess so peaks never leak between measurements.

``peak_memory("pkg.module:prepare", n=…)`` starts ``python -m course_lib.perf.memory``; the child calls
``prepare(**kwargs)`` (untraced: building fixtures is not the work), which returns a zero-argument callable;
the child then traces that call with ``tracemalloc`` and reports its peak of Python allocations, plus the
process's peak resident set size during the call (on Linux the high-water mark is reset after preparing, so the
preparation's own peak does not hide the call's; ``rss_mb - baseline_rss_mb`` is what the call added).
"""

from __future__ import annotations

import gc
import importlib
import json
import resource
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MB = 1024 * 1024


@dataclass(frozen=True)
class MemoryPeak:
    """Peak memory of one measured call: ``traced_mb`` (Python allocations during the call) and ``rss_mb``."""

    target: str
    kwargs: dict[str, Any]
    items: int
    seconds: float
    traced_mb: float
    rss_mb: float
    baseline_rss_mb: float  # RSS after preparing, just before the call: the part of ``rss_mb`` the call did not add


def _resolve(target: str) -> Callable[..., Callable[[], int]]:
    module, _, name = target.partition(":")
    if not module or not name:
        raise ValueError(f"target {target!r} must look like 'package.module:function'")
    return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]


def _proc_status(field: str) -> float | None:
    """A ``kB`` field of ``/proc/self/status`` in MB (Linux only)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _reset_peak_rss() -> bool:
    """Start a fresh RSS high-water mark (Linux: ``clear_refs`` 5), so the peak excludes the preparation."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _rss_now_mb() -> float:
    current = _proc_status("VmRSS")
    return current if current is not None else _rss_peak_mb()


def _rss_peak_mb() -> float:
    # VmHWM belongs to this process's memory map; ru_maxrss on Linux also carries the parent's peak across fork
    peak = _proc_status("VmHWM")
    if peak is not None:
        return peak
    raw = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return raw / MB if sys.platform == "darwin" else raw / 1024  # macOS reports bytes, Linux KiB


def measure_here(target: str, kwargs: dict[str, Any], *, trace: bool = True) -> MemoryPeak:
    """Prepare and measure ``target`` in this process (``peak_memory`` calls this in a child process).

    ``trace=False`` skips ``tracemalloc`` (which slows allocation-heavy, multi-threaded work several-fold) and
    reports only the resident-set peak; ``traced_mb`` is then ``nan``.
    """
    work = _resolve(target)(**kwargs)
    gc.collect()
    _reset_peak_rss()
    baseline = _rss_now_mb()
    if trace:
        tracemalloc.start()
        tracemalloc.reset_peak()
    start = time.perf_counter()
    items = work()
    seconds = time.perf_counter() - start
    traced = float("nan")
    if trace:
        traced = tracemalloc.get_traced_memory()[1] / MB
        tracemalloc.stop()
    return MemoryPeak(target, kwargs, items, seconds, traced, _rss_peak_mb(), baseline)


def peak_memory(target: str, *, trace: bool = True, timeout: float = 600, **kwargs: Any) -> MemoryPeak:
    """Measure ``target`` (``"module:prepare_function"``) in a fresh Python process; see the module docstring."""
    flags = [] if trace else ["--no-trace"]
    completed = subprocess.run(
        [sys.executable, "-m", "course_lib.perf.memory", target, json.dumps(kwargs), *flags],
        capture_output=True, text=True, timeout=timeout, check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"memory measurement of {target} {kwargs} failed (exit {completed.returncode}); "
                           f"its error output ends with:\n{completed.stderr[-2000:]}")
    data = json.loads(completed.stdout.strip().splitlines()[-1])
    return MemoryPeak(**data)


def main(argv: list[str]) -> int:
    """Child entry point: ``python -m course_lib.perf.memory module:function '{"n": 1000}' [--no-trace]``."""
    trace = "--no-trace" not in argv
    args = [a for a in argv if a != "--no-trace"]
    target, raw = args[0], args[1] if len(args) > 1 else "{}"
    peak = measure_here(target, json.loads(raw), trace=trace)
    print(json.dumps(peak.__dict__))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
