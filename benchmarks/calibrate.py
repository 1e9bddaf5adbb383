"""Calibrate the CI floors and margins from repeated quick runs: one command, on the machine CI runs on.

    python -m benchmarks.calibrate --runs 10            # run quick mode 10 times, print what they suggest
    python -m benchmarks.calibrate --runs 10 --write    # … and write floors and margins into targets.toml
    python -m benchmarks.calibrate RUN1.json RUN2.json …  # analyse existing results instead of running

Per group, over the runs: the subject ratio's median and spread, and the median width of its confidence interval.
The rules (``benchmarks/README.md``):

- **floor** = the stated target where the median run meets it, else the median ratio (rounded down to two
  significant digits), so that CI catches a regression, not an old miss;
- **margin** = the smallest multiple of 5 % (at least ``MIN_MARGIN``) with which no run's *ratio* would have
  fallen below ``floor × (1 − margin)``: the drift from run to run, which one run's interval cannot see. The check
  fails only when a run's whole interval lies below that line, so the interval's upper half is a further guard
  against false alarms. At most ``MAX_MARGIN``: a group that needs more is too noisy for the check, and the
  command says so instead of widening the tolerance.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.report import TARGETS, Target, load_targets

MIN_MARGIN = 0.05
MAX_MARGIN = 0.25
RUN_TIMEOUT_SECONDS = 600  # one quick run takes well under a minute; this only stops a hang


@dataclass(frozen=True)
class Noise:
    """How one group's subject ratio, and its interval, varied over repeated identical runs."""

    group: str
    ratios: list[float]
    widths: list[float]  # each run's relative interval width (empty for results without intervals)

    @property
    def median(self) -> float:
        return statistics.median(self.ratios)

    @property
    def spread(self) -> float:
        """(max − min) / median of the ratios."""
        return (max(self.ratios) - min(self.ratios)) / self.median

    @property
    def low_deviation(self) -> float:
        """(median − min) / median: how far below its usual level the ratio fell in the worst run."""
        return (self.median - min(self.ratios)) / self.median

    @property
    def median_width(self) -> float | None:
        """The typical relative width of one run's interval: 0.2 means about ±10 %."""
        return statistics.median(self.widths) if self.widths else None


def noise(payloads: Sequence[dict[str, Any]]) -> list[Noise]:
    """Subject ratios and intervals per group across several results files (same mode, same machine)."""
    found: dict[str, tuple[list[float], list[float]]] = {}
    for payload in payloads:
        for group in payload["groups"]:
            ratio = group["subject_ratio"]
            if ratio is None:
                continue
            ratios, widths = found.setdefault(group["name"], ([], []))
            ratios.append(ratio)
            if group.get("subject_ratio_ci"):
                low, high = group["subject_ratio_ci"]
                widths.append((high - low) / ratio)
    return [Noise(name, *values) for name, values in found.items()]


def _round_down(value: float) -> float:
    """Two significant digits, rounded down (a floor must not sit above what was measured)."""
    if value <= 0:
        return value
    step = 10.0 ** (math.floor(math.log10(value)) - 1)
    return math.floor(value / step + 1e-9) * step


def suggested_floor(n: Noise, target: float | None) -> float:
    """The stated target where the median run meets it, else the median level, rounded down."""
    if target is not None and n.median >= target:
        return target
    return round(_round_down(n.median), 6)


def needed_margin(n: Noise, floor: float) -> float:
    """The margin with which the lowest ratio seen would just have stayed on the line: ``1 − min(ratio) / floor``."""
    return max(0.0, 1 - min(n.ratios) / floor)


def suggested_margin(n: Noise, floor: float | None = None) -> float:
    """``needed_margin`` against ``floor`` (default: the median ratio), rounded up to 5 %, within
    ``MIN_MARGIN`` … ``MAX_MARGIN``."""
    needed = needed_margin(n, n.median if floor is None else floor)
    return min(MAX_MARGIN, max(MIN_MARGIN, math.ceil(round(needed * 20, 9)) / 20))


@dataclass(frozen=True)
class Calibration:
    """What the runs suggest for one group."""

    noise: Noise
    target: float | None  # the stated target
    floor: float
    margin: float
    needed: float

    @property
    def meets_target(self) -> bool:
        return self.target is not None and self.noise.median >= self.target

    @property
    def too_noisy(self) -> bool:
        """The group would need a margin above ``MAX_MARGIN`` for none of these runs to fail."""
        return self.needed > MAX_MARGIN


def calibrate(payloads: Sequence[dict[str, Any]], targets: dict[str, Target]) -> list[Calibration]:
    """Floors and margins from repeated runs, one per group (stated targets from ``targets``)."""
    result = []
    for n in noise(payloads):
        stated = targets[n.group].target if n.group in targets else None
        floor = suggested_floor(n, stated)
        result.append(Calibration(n, stated, floor, suggested_margin(n, floor), needed_margin(n, floor)))
    return result


def noise_table(rows: Sequence[Calibration]) -> str:
    """Markdown: per group, the ratios seen, the interval widths, and the floor and margin they suggest."""
    lines = ["| group | runs | min | median | max | spread | interval width | floor | margin |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        n = row.noise
        width = f"{n.median_width:.0%}" if n.median_width is not None else "—"
        margin = f"{row.margin:.0%}" + (f" (needs {row.needed:.0%})" if row.too_noisy else "")
        lines.append(f"| {n.group} | {len(n.ratios)} | {min(n.ratios):.2f} | {n.median:.2f} | {max(n.ratios):.2f} "
                     f"| {n.spread:.0%} | {width} | {row.floor:g} | {margin} |")
    return "\n".join(lines)


def write_targets(rows: Sequence[Calibration], path: Path = TARGETS, *, note: str = "") -> str:
    """Rewrite the ``floor`` and ``margin`` lines of every calibrated group in ``path``; other lines stay."""
    by_group = {row.noise.group: row for row in rows}
    out: list[str] = []
    row: Calibration | None = None
    for line in path.read_text().splitlines():
        header = re.match(r'\s*\[groups\."([^"]+)"\]', line)
        if header:
            row = by_group.get(header.group(1))
        if row is not None and re.match(r"\s*floor\s*=", line):
            level = "meets the target" if row.meets_target else "misses the target" if row.target else "no target"
            line = (f"floor = {row.floor:g}  # {level}: quick median {row.noise.median:.3g} over "
                    f"{len(row.noise.ratios)} runs{note}")
        elif row is not None and re.match(r"\s*margin\s*=", line):
            noisy = f"; TOO NOISY: needs {row.needed:.0%}" if row.too_noisy else ""
            line = (f"margin = {row.margin:g}  # lowest ratio {min(row.noise.ratios):.3g}, median interval width "
                    f"{row.noise.median_width or 0:.0%}{noisy}")
        out.append(line)
    text = "\n".join(out) + "\n"
    with tempfile.TemporaryDirectory() as tmp:  # refuse to write a targets file that would not load
        probe = Path(tmp) / path.name
        probe.write_text(text)
        load_targets(probe)
    path.write_text(text)
    return text


def calibration_note(payloads: Sequence[dict[str, Any]]) -> str:
    """When, and how busy the machine was (1-minute load averages of the runs): a floor is only as good as that."""
    loads = sorted(float(p["machine"]["load_average"].split()[0]) for p in payloads
                   if p.get("machine", {}).get("load_average"))
    busy = f", load {loads[0]:g}-{loads[-1]:g}" if loads else ""
    return f", calibrated {datetime.now(UTC).date().isoformat()}{busy}"


def dropped_floors(rows: Sequence[Calibration], targets: dict[str, Target]) -> list[str]:
    """Groups whose new floor is lower than the current one: noise, or a regression being written into the file?"""
    return [f"{row.noise.group}: floor {targets[row.noise.group].floor:g} → {row.floor:g}" for row in rows
            if row.noise.group in targets and row.floor < targets[row.noise.group].floor]


def run_quick(runs: int, directory: Path, names: Sequence[str] = ()) -> list[Path]:
    """``python -m benchmarks --quick`` ``runs`` times, each in a fresh process (as CI runs it)."""
    paths = []
    for i in range(1, runs + 1):
        path = directory / f"run{i:02d}.json"
        print(f"calibration run {i}/{runs} → {path}", file=sys.stderr, flush=True)
        done = subprocess.run([sys.executable, "-m", "benchmarks", *names, "--quick", "--json", str(path)],
                              capture_output=True, text=True, timeout=RUN_TIMEOUT_SECONDS, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"quick run {i} failed (exit {done.returncode}); its last output:\n"
                               f"{done.stderr[-3000:]}")
        print("\n".join(line for line in done.stderr.splitlines() if " pairs in " in line), file=sys.stderr)
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.calibrate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", nargs="*", type=Path, help="existing results JSON files (default: run them)")
    parser.add_argument("--runs", type=int, default=10, help="quick runs to make (default 10)")
    parser.add_argument("--groups", nargs="*", default=[], help="only these groups or prefixes")
    parser.add_argument("--keep", type=Path, help="keep the runs' JSON files in this folder")
    parser.add_argument("--write", action="store_true", help="write the floors and margins into targets.toml")
    parser.add_argument("--targets", type=Path, default=TARGETS)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        paths = args.results
        if not paths:
            if args.runs < 3:
                parser.error("--runs must be at least 3: fewer runs cannot show how far a ratio moves")
            directory = args.keep or Path(tmp)
            directory.mkdir(parents=True, exist_ok=True)
            paths = run_quick(args.runs, directory, args.groups)
        payloads = [json.loads(path.read_text()) for path in paths]
    targets = load_targets(args.targets)
    rows = calibrate(payloads, targets)
    print(noise_table(rows))
    for drop in dropped_floors(rows, targets):
        print(f"LOWER FLOOR {drop}: make sure the runs measured the main branch's code (noise, not a regression)",
              file=sys.stderr)
    for row in rows:
        if row.too_noisy:
            print(f"TOO NOISY {row.noise.group}: no margin up to {MAX_MARGIN:.0%} passes all {len(row.noise.ratios)} "
                  f"runs (needs {row.needed:.0%}); make its runs steadier (more or longer rounds, a quieter machine) "
                  "rather than widening the margin", file=sys.stderr)
    if args.write:
        write_targets(rows, args.targets, note=calibration_note(payloads))
        print(f"floors and margins written to {args.targets}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
