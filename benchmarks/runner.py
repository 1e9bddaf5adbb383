"""The benchmark runner: named cases, run side by side, reported as throughput and ratio to a baseline.

A *group* is a set of cases that do the same work (e.g. "append one event per transaction") with different
implementations; one of them is the baseline. The runner interleaves the cases of a group (A, B, A, B, …) so
that a noisy neighbour slows all of them alike, takes the median of the repeats, and reports each case's
throughput and its ratio to the baseline. Cases live in ``benchmarks/cases/*.py``; each module exposes ``GROUPS``.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import platform
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Measurement:
    """What one run of a case did: how many items in how many seconds (timed by the case itself)."""

    items: int
    seconds: float
    peak_memory_mb: float | None = None

    @property
    def per_second(self) -> float:
        return self.items / self.seconds if self.seconds > 0 else float("inf")


@dataclass(frozen=True)
class Case:
    """One implementation of a group's work. ``run(quick)`` does the work and times the part that counts."""

    label: str
    run: Callable[[bool], Measurement]


@dataclass(frozen=True)
class Group:
    """Cases doing the same work, side by side. ``target`` is the minimum ratio ``subject/baseline``."""

    name: str
    unit: str
    cases: list[Case]
    baseline: str
    subject: str = "course_lib"
    target: float | None = None
    target_is_maximum: bool = False  # e.g. "within 2x of raw sqlite3": ratio must be >= 1/2, stated as 0.5
    notes: str = ""
    setup: Callable[[], None] | None = None


@dataclass
class CaseResult:
    label: str
    per_second: float
    runs: list[float]
    ratio_to_baseline: float
    peak_memory_mb: float | None = None


@dataclass
class GroupResult:
    name: str
    unit: str
    baseline: str
    subject: str
    target: float | None
    notes: str
    cases: list[CaseResult] = field(default_factory=list)

    @property
    def subject_ratio(self) -> float | None:
        for case in self.cases:
            if case.label == self.subject:
                return case.ratio_to_baseline
        return None

    @property
    def meets_target(self) -> bool | None:
        ratio = self.subject_ratio
        if self.target is None or ratio is None:
            return None
        return ratio >= self.target


def discover(names: Iterable[str] = ()) -> list[Group]:
    """Every group from ``benchmarks/cases``, or those whose name starts with one of ``names``."""
    import benchmarks.cases as package

    groups: list[Group] = []
    for module_info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"benchmarks.cases.{module_info.name}")
        groups.extend(getattr(module, "GROUPS", []))
    wanted = list(names)
    if wanted:
        groups = [g for g in groups if any(g.name == w or g.name.startswith(w + ".") or g.name.startswith(w)
                                           for w in wanted)]
    return groups


def run_group(group: Group, *, quick: bool, repeats: int, progress: Callable[[str], None] = print) -> GroupResult:
    """Run a group's cases interleaved ``repeats`` times; median throughput per case; ratio to baseline."""
    if group.setup:
        group.setup()
    runs: dict[str, list[Measurement]] = {case.label: [] for case in group.cases}
    for repeat in range(repeats):
        for case in group.cases:
            progress(f"  {group.name}: {case.label} (run {repeat + 1}/{repeats})")
            runs[case.label].append(case.run(quick))
    medians = {label: statistics.median(m.per_second for m in ms) for label, ms in runs.items()}
    base = medians[group.baseline]
    result = GroupResult(group.name, group.unit, group.baseline, group.subject, group.target, group.notes)
    for case in group.cases:
        peaks = [m.peak_memory_mb for m in runs[case.label] if m.peak_memory_mb is not None]
        result.cases.append(CaseResult(
            label=case.label,
            per_second=medians[case.label],
            runs=[m.per_second for m in runs[case.label]],
            ratio_to_baseline=medians[case.label] / base if base else float("nan"),
            peak_memory_mb=max(peaks) if peaks else None,
        ))
    return result


def machine() -> dict[str, Any]:
    """The machine the numbers came from."""
    import os

    info: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": _cpu_model() or platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    try:
        info["memory_gb"] = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
        info["load_average"] = " ".join(f"{x:.1f}" for x in os.getloadavg())  # how busy the machine was
    except (ValueError, OSError, AttributeError):  # not every platform has these
        pass
    return info


def _cpu_model() -> str | None:
    """The CPU's model name on Linux (``platform.processor()`` is often empty there)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def to_markdown(results: list[GroupResult]) -> str:
    """A Markdown table: one row per case, throughput and ratio to its group's baseline."""
    lines = [
        "| group | case | throughput | ratio to baseline | target |",
        "|---|---|---:|---:|---|",
    ]
    for group in results:
        for case in group.cases:
            is_subject = case.label == group.subject
            target = ""
            if is_subject and group.target is not None:
                verdict = "met" if group.meets_target else "MISSED"
                target = f"≥ {group.target:g}× {group.baseline} ({verdict})"
            base_mark = " (baseline)" if case.label == group.baseline else ""
            lines.append(
                f"| {group.name} | {case.label}{base_mark} | {case.per_second:,.0f} {group.unit}/s | "
                f"{case.ratio_to_baseline:.2f}× | {target} |"
            )
    return "\n".join(lines)


def write_json(results: list[GroupResult], path: Path, *, quick: bool,
               extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write every group's results and the machine description to ``path``; returns what was written."""
    payload = {
        "machine": machine(),
        "quick": quick,
        "groups": [
            {**{k: v for k, v in asdict(g).items() if k != "cases"},
             "subject_ratio": g.subject_ratio, "meets_target": g.meets_target,
             "cases": [asdict(c) for c in g.cases]}
            for g in results
        ],
    }
    payload.update(extra or {})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2))
    return payload


def timed(fn: Callable[[], int]) -> Measurement:
    """Time ``fn`` (which returns how many items it handled) with a monotonic clock."""
    start = time.perf_counter()
    items = fn()
    return Measurement(items, time.perf_counter() - start)
