"""The benchmark runner: named cases, run side by side, reported as throughput and ratio to a baseline.

A *group* is a set of cases that do the same work (e.g. "append one event per transaction") with different
implementations; one of them is the baseline. The runner warms every case up once, then runs the cases in rounds,
interleaved (A, B, C, A, B, C, …), so that a noisy neighbour slows all of them alike. Each case's throughput is
the median of its runs; its ratio to the baseline is the median of the *paired* ratios (run i of the case over
run i of the baseline, measured back to back), with a bootstrap confidence interval over those pairs
(``course_lib.perf.stats.ratio_interval``). Many short rounds give more pairs, and more pairs a narrower interval:
by default the runner keeps adding rounds until the group has used its time budget (at least ``MIN_REPEATS``,
at most ``MAX_REPEATS``). Cases live in ``benchmarks/cases/*.py``; each module exposes ``GROUPS``.
"""

from __future__ import annotations

import gc
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

from course_lib.perf.stats import BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED, ratio_interval

MIN_REPEATS = 5  # fewer pairs than this give an interval too wide to tell anything
MAX_REPEATS = 20  # beyond this the interval narrows only slowly (with the square root of the pairs)
BUDGET_SECONDS = {True: 1.5, False: 15.0}  # measured rounds per group, quick → seconds (warm-up not counted)
CONFIDENCE = 0.95


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
    """One implementation of a group's work. ``run(quick)`` does the work and times the part that counts.

    ``in_quick=False`` marks a case that only explains (e.g. what a thread costs): quick mode, whose check looks
    at the subject and the baseline only, skips it.
    """

    label: str
    run: Callable[[bool], Measurement]
    in_quick: bool = True


@dataclass(frozen=True)
class Group:
    """Cases doing the same work, side by side. ``target`` is the minimum ratio ``subject/baseline``.

    ``warmup`` rounds run first and are not counted (the first run pays for imports, caches and files); set it
    to 0 where every run starts cold anyway.
    """

    name: str
    unit: str
    cases: list[Case]
    baseline: str
    subject: str = "course_lib"
    target: float | None = None
    target_is_maximum: bool = False  # e.g. "within 2x of raw sqlite3": ratio must be >= 1/2, stated as 0.5
    notes: str = ""
    setup: Callable[[], None] | None = None
    warmup: int = 1


@dataclass
class CaseResult:
    label: str
    per_second: float  # median of the runs
    runs: list[float]  # items/s of each run, in the order the rounds ran
    ratio_to_baseline: float  # median of the paired ratios (run i over the baseline's run i)
    peak_memory_mb: float | None = None
    ratio_ci: list[float] | None = None  # [low, high]: bootstrap confidence interval of ratio_to_baseline


@dataclass
class GroupResult:
    name: str
    unit: str
    baseline: str
    subject: str
    target: float | None
    notes: str
    cases: list[CaseResult] = field(default_factory=list)
    repeats: int = 0  # measured rounds (pairs per ratio)
    warmup: int = 0
    seconds: float = 0.0  # wall time of the group, warm-up and set-up included

    def _subject(self) -> CaseResult | None:
        return next((case for case in self.cases if case.label == self.subject), None)

    @property
    def subject_ratio(self) -> float | None:
        case = self._subject()
        return case.ratio_to_baseline if case else None

    @property
    def subject_ratio_ci(self) -> list[float] | None:
        case = self._subject()
        return case.ratio_ci if case else None

    @property
    def subject_ratio_upper(self) -> float | None:
        """The upper end of the subject ratio's interval (the ratio itself when there is no interval)."""
        interval = self.subject_ratio_ci
        return interval[1] if interval else self.subject_ratio

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


def enough_rounds(done: int, elapsed: float, *, repeats: int | None, budget: float) -> bool:
    """Stop after ``repeats`` rounds when given; else when one more round would overrun ``budget`` seconds,
    but never before ``MIN_REPEATS`` nor after ``MAX_REPEATS`` rounds."""
    if repeats is not None:
        return done >= repeats
    if done < MIN_REPEATS:
        return False
    return done >= MAX_REPEATS or elapsed + elapsed / done > budget


def measure_rounds(cases: list[Case], *, quick: bool, warmup: int, repeats: int | None, budget: float,
                   progress: Callable[[str], None] = print, name: str = "") -> list[dict[str, Measurement]]:
    """Warm up, then run ``cases`` interleaved, one round (A, B, C) after another; one dict per measured round.

    One full garbage collection after the warm-up, so the measured rounds do not pay for the warm-up's garbage
    (one per round would cost more time than many rounds take).
    """
    for round_number in range(warmup):
        progress(f"  {name}: warm-up {round_number + 1}/{warmup}")
        for case in cases:
            case.run(quick)
    gc.collect()
    rounds: list[dict[str, Measurement]] = []
    started = time.perf_counter()
    while not enough_rounds(len(rounds), time.perf_counter() - started, repeats=repeats, budget=budget):
        progress(f"  {name}: round {len(rounds) + 1}" + (f"/{repeats}" if repeats else ""))
        rounds.append({case.label: case.run(quick) for case in cases})
    return rounds


def cases_to_run(group: Group, quick: bool) -> list[Case]:
    """The group's cases, without those that only explain when ``quick`` (the subject and baseline always run)."""
    return [case for case in group.cases
            if case.in_quick or not quick or case.label in (group.baseline, group.subject)]


def run_group(group: Group, *, quick: bool, repeats: int | None = None, budget: float | None = None,
              progress: Callable[[str], None] = print) -> GroupResult:
    """Run a group's cases interleaved: ``repeats`` rounds, or as many as fit in ``budget`` seconds (default
    ``BUDGET_SECONDS``); median throughput per case; median paired ratio to the baseline, with its interval."""
    started = time.perf_counter()
    cases = cases_to_run(group, quick)
    if group.setup:
        group.setup()
    rounds = measure_rounds(cases, quick=quick, warmup=group.warmup, repeats=repeats,
                            budget=BUDGET_SECONDS[quick] if budget is None else budget, progress=progress,
                            name=group.name)
    result = GroupResult(group.name, group.unit, group.baseline, group.subject, group.target, group.notes,
                         repeats=len(rounds), warmup=group.warmup)
    base_runs = [r[group.baseline].per_second for r in rounds]
    for case in cases:
        runs = [r[case.label].per_second for r in rounds]
        peaks = [peak for r in rounds if (peak := r[case.label].peak_memory_mb) is not None]
        interval = ratio_interval(runs, base_runs, confidence=CONFIDENCE) if len(rounds) >= 2 else None
        result.cases.append(CaseResult(
            label=case.label,
            per_second=statistics.median(runs),
            runs=runs,
            ratio_to_baseline=interval.estimate if interval else runs[0] / base_runs[0],
            peak_memory_mb=max(peaks) if peaks else None,
            ratio_ci=[interval.low, interval.high] if interval and case.label != group.baseline else None,
        ))
    result.seconds = round(time.perf_counter() - started, 2)
    return result


INTERVAL_METHOD = {
    "estimate": "median of the paired ratios (run i of a case over run i of the baseline, same round)",
    "interval": "percentile bootstrap over the pairs",
    "confidence": CONFIDENCE,
    "resamples": BOOTSTRAP_RESAMPLES,
    "seed": BOOTSTRAP_SEED,
}


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


def write_json(results: list[GroupResult], path: Path, *, quick: bool,
               extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write every group's results and the machine description to ``path``; returns what was written."""
    payload = {
        "machine": machine(),
        "quick": quick,
        "ratio_interval": INTERVAL_METHOD,
        "groups": [
            {**{k: v for k, v in asdict(g).items() if k != "cases"},
             "subject_ratio": g.subject_ratio, "subject_ratio_ci": g.subject_ratio_ci,
             "meets_target": g.meets_target,
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
