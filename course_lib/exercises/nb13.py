"""Notebook 13's exercises: compute p95 from raw latency samples, and spot the flawed benchmarks.

``check_p95(fn)`` calls the learner's ``p95(samples)`` on unsorted sample lists where the usual mistakes give
visibly different answers (the mean, forgetting to sort, taking the maximum, an index off by a whole rank).
Both textbook definitions are accepted: linear interpolation (NumPy's default) and nearest rank.

``check_flawed(answer)`` takes the set of letters of the benchmark write-ups in ``BENCHMARKS`` that are flawed.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Callable, Sequence
from typing import Any

from course_lib.exercises import Check, CheckResult, Hints, exercise, not_attempted, solved, wrong
from course_lib.perf.stats import nearest_rank, percentile


def _sample_sets() -> list[list[float]]:
    rng = random.Random(13)
    # a realistic latency shape: most requests fast, a slow tail; shuffled so sorting matters
    tail = [rng.uniform(2, 6) for _ in range(180)] + [rng.uniform(20, 80) for _ in range(20)]
    rng.shuffle(tail)
    small = [9.0, 1.0, 4.0, 7.0, 2.0, 10.0, 3.0, 8.0, 6.0, 5.0, 30.0, 0.5]
    steps = [float(x) for x in range(100, 0, -1)]  # 100 … 1: p95 is about 95
    return [tail, small, steps]


SAMPLE_SETS = _sample_sets()
"""The latency samples (ms) the check feeds to ``p95``."""

P95_HINTS = Hints(
    concept="The 95th percentile is the latency that 95 % of requests beat: it describes the slow tail, which "
            "the mean hides and the maximum exaggerates.",
    approach="Order a copy of the samples (never the caller's list), then take the value at 95 % of the way "
             "through them — either the nearest rank, or interpolated between the two neighbouring ranks.",
    skeleton="def p95(samples):\n    ordered = ...\n"
             "    rank = ...  # 95 % of the way from the first to the last index\n"
             "    ...\n    return ...",
)


def _acceptable(samples: Sequence[float]) -> tuple[float, float]:
    a, b = percentile(samples, 95), nearest_rank(samples, 95)
    return min(a, b), max(a, b)


@exercise("nb13.p95", title="p95 from raw latency samples", level="★", minutes=8, hints=P95_HINTS)
def check_p95(p95: Callable[[list[float]], float] | None) -> CheckResult:
    """Is ``p95(samples)`` the 95th percentile (interpolated or nearest-rank) of every sample set?"""
    if p95 is None:
        return not_attempted("write p95(samples) and pass it to the check")
    if not callable(p95):
        return wrong(f"pass the function itself (p95), not {type(p95).__name__}")
    for samples in SAMPLE_SETS:
        given = list(samples)
        got = p95(given)
        if given != samples:
            return wrong("your p95 reordered the list it was given (list.sort() sorts in place): the caller's samples "
                         "must stay as they were")
        if not isinstance(got, (int, float)) or isinstance(got, bool) or math.isnan(float(got)):
            return wrong(f"p95 must return a number, it returned {got!r}")
        low, high = _acceptable(samples)
        if not low - 1e-9 <= got <= high + 1e-9:
            if math.isclose(got, statistics.fmean(samples)):
                why = "that is the mean"
            elif math.isclose(got, max(samples)):
                why = "that is the maximum (p100)"
            elif math.isclose(got, samples[min(len(samples) - 1, int(0.95 * len(samples)))]):
                why = "that is the sample at 95 % of the *unsorted* list"
            else:
                why = "it is not between the interpolated and the nearest-rank p95"
            return wrong(f"for {len(samples)} samples your p95 gave {got:.3g}, expected {low:.3g}"
                         + (f"–{high:.3g}" if high != low else "") + f": {why}")
    return solved("p95 is right on every sample set: sort, then take the value at the 95 % rank")


BENCHMARKS: dict[str, str] = {
    "A": "Timed one call of publish() with time.time(), once, and reported 0.4 ms as the publish latency.",
    "B": "Ran the batched and the naive rebuild alternately five times each after one warm-up run and reported "
         "the ratio of their medians.",
    "C": "Measured library X on Monday and library Y on Tuesday on the same laptop and reported X as 1.4x faster.",
    "D": "Reported the mean latency of 10,000 requests as 'what users see', leaving out p95 and p99.",
    "E": "Recorded the latency of each of 200 round trips and reported p50, p95 and p99 with the sample count.",
}
"""Benchmark write-ups: which of them would you not trust?"""

FLAWED = frozenset({"A", "C", "D"})
_WHY = {
    "A": "one run, no warm-up, and time.time() (wall clock, can jump): use perf_counter, warm up, repeat",
    "C": "not side by side: the machine's load differs between days; interleave both in one run and report a ratio",
    "D": "the mean hides the tail users feel; report percentiles",
    "B": "B is the honest way: warm-up, interleaved repeats, ratio of medians",
    "E": "E is honest: a distribution, its tail percentiles and the number of samples",
}


FLAWED_HINTS = Hints(
    concept="An honest benchmark compares like with like, repeats the measurement, and reports a distribution "
            "rather than one number.",
    approach="Ask of each write-up: was it warmed up and repeated? Were the things compared measured side by side, "
             "in one run? Does it report the tail (percentiles) and the sample count, or only one number?",
    skeleton="flawed = {...}  # the letters of the write-ups that fail at least one of the three questions",
)


@exercise("nb13.flawed", title="spot the flawed benchmarks", level="★", minutes=5, hints=FLAWED_HINTS)
def check_flawed(answer: Any) -> CheckResult:
    """Is ``answer`` exactly the set of flawed write-ups in ``BENCHMARKS``?"""
    if answer is None:
        return not_attempted("set flawed = {...} to the letters of the write-ups you would not trust")
    if isinstance(answer, str):
        answer = {c for c in answer.upper() if c.isalpha()}
    try:
        chosen = {str(a).upper() for a in answer}
    except TypeError:
        return wrong(f"give a set of letters such as {{'A', 'B'}}, not {type(answer).__name__}")
    unknown = chosen - set(BENCHMARKS)
    if unknown:
        return wrong(f"there is no write-up {sorted(unknown)}; the letters are {sorted(BENCHMARKS)}")
    missed, extra = FLAWED - chosen, chosen - FLAWED
    if not missed and not extra:
        return solved("A, C and D are flawed: " + "; ".join(f"{k}: {_WHY[k]}" for k in sorted(FLAWED)))
    parts = []
    if missed:
        parts.append(f"{len(missed)} flawed write-up(s) are missing from your set")
    if extra:
        parts.append(f"{len(extra)} of your picks are honest benchmarks")
    return wrong("; ".join(parts) + " — ask the three questions of each write-up again")


CHECKS: dict[str, Check] = {"p95": check_p95, "flawed": check_flawed}
