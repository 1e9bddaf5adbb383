"""Notebook 13's exercises: a fair benchmark harness (build), p95 from raw latency samples, the flawed benchmarks.

``check_harness(compare)`` runs the learner's ``compare(a, b, clock, rounds)`` — warm both up, then ``rounds``
interleaved rounds, each timing one call of ``a`` and one of ``b`` with ``clock``; return the median of the
per-round ratios ``time_b / time_a`` — against two fake workloads on a fake clock whose "machine" misbehaves the way
a laptop does: ``a`` pays a cold start on its first call, everything gets three times slower part-way through
(a noisy neighbour), and one call of ``b`` stalls for a long pause. The true ratio is 2. The check reads the log
of calls and clock readings, so it can tell a missing warm-up or a sequential run from a merely lucky number.

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


class FakeMachine:
    """A clock and two workloads whose timings misbehave like a busy laptop's — deterministically.

    ``a`` costs 1 unit and ``b`` 2 (the true ratio b/a is 2). ``a``'s first call ever costs 20 (a cold start:
    imports, caches, connections); from the 10th call on, every call costs 3 times as much (a noisy neighbour);
    ``b``'s 6th call stalls for 60 more units (a pause). ``log`` records every call and clock reading in order.
    """

    COLD = 20.0
    BUSY_FROM = 9
    STALL_AT = 5
    STALL = 60.0

    def __init__(self) -> None:
        self.now = 0.0
        self.log: list[str] = []
        self.calls = {"a": 0, "b": 0}

    def clock(self) -> float:
        self.log.append("clock")
        return self.now

    def _work(self, name: str, cost: float) -> None:
        load = 3.0 if len(self.log) - self.log.count("clock") >= self.BUSY_FROM else 1.0
        self.log.append(name)
        spent = cost * load
        if name == "a" and self.calls["a"] == 0:
            spent = self.COLD
        if name == "b" and self.calls["b"] == self.STALL_AT:
            spent += self.STALL
        self.calls[name] += 1
        self.now += spent

    def a(self) -> None:
        self._work("a", 1.0)

    def b(self) -> None:
        self._work("b", 2.0)


HARNESS_HINTS = Hints(
    concept="A fair comparison gives both contestants the same conditions: a warm-up so neither pays a one-off "
            "start-up cost inside a timing, turns taken round by round so a busy moment slows both, and a "
            "summary that one disturbed run cannot drag — the median of the per-round ratios.",
    approach="Call each workload once before timing anything. Then, for each round, time one call of a and one "
             "call of b with the clock you are given (read it before and after each call), and keep that round's "
             "ratio. Return the median of the ratios — not a mean, which one stalled call can pull anywhere.",
    skeleton="def compare(a, b, clock, rounds=12):\n    ...  # warm up\n    ratios = []\n"
             "    for _ in range(rounds):\n        start = clock()\n        ...\n        ratios.append(...)\n"
             "    return ...",
)


@exercise("nb13.harness", title="a fair, interleaved benchmark harness", level="★★", minutes=20, hints=HARNESS_HINTS)
def check_harness(compare: Any) -> CheckResult:
    """Run ``compare(a, b, clock, rounds=12)`` on the fake machine; read the log and the ratio it returns."""
    if compare is None:
        return not_attempted("write compare(a, b, clock, rounds=12) and pass it to the check")
    if not callable(compare):
        return wrong(f"pass the function itself (compare), not {type(compare).__name__}")
    machine = FakeMachine()
    got = compare(machine.a, machine.b, machine.clock, rounds=12)
    log = machine.log
    if "clock" not in log:
        return wrong("your harness never read the clock it was given: time every call with clock() (in the real "
                     "world, time.perf_counter), so the check — and a reader — know what was measured")
    before_timing = log[:log.index("clock")]
    if not {"a", "b"} <= set(before_timing):
        missing = sorted({"a", "b"} - set(before_timing))
        return wrong(f"{' and '.join(missing)} {'was' if len(missing) == 1 else 'were'} first called inside a "
                     "timing: without a warm-up, a first timed call pays one-off start-up costs (here a's first call "
                     "costs 20 times a normal one)")
    timed_calls = [entry for entry in log[log.index("clock"):] if entry != "clock"]
    rounds = [timed_calls[i:i + 2] for i in range(0, len(timed_calls), 2)]
    if any(sorted(pair) != ["a", "b"] for pair in rounds):
        return wrong(f"after the warm-up the calls ran {''.join(timed_calls)}: not interleaved. Rounds must take "
                     "turns, one a and one b each, so that a busy moment slows both")
    if len(rounds) != 12:
        return wrong(f"12 rounds were asked for, your harness ran {len(rounds)}")
    if not isinstance(got, (int, float)) or isinstance(got, bool) or math.isnan(float(got)):
        return wrong(f"compare must return the ratio as a number, it returned {got!r}")
    if math.isclose(got, 0.5, rel_tol=0.1):
        return wrong(f"your harness returned {got:.3g}: upside down — return time of b over time of a")
    if not math.isclose(got, 2.0, rel_tol=0.1):
        return wrong(f"your harness returned {got:.3g}, but b really costs twice a. One of b's calls stalled for a "
                     "long pause: a mean (of the ratios, or of the times) is pulled by that one run; the median of "
                     "the per-round ratios is not")
    return solved(f"warmed up, interleaved, and {got:.3g}: the medians ignored the cold start, the noisy neighbour "
                  "and the stalled call")


CHECKS: dict[str, Check] = {"harness": check_harness, "p95": check_p95, "flawed": check_flawed}
