"""Notebook 14's checks accept the reference solutions and reject the usual mistakes with a reason."""

from __future__ import annotations

import statistics

from course_lib.exercises.nb14 import CHECKS, SAMPLE_SETS, check_flawed, check_p95
from solutions.nb14 import ANSWERS


def test_every_check_accepts_the_reference_solution() -> None:
    assert set(CHECKS) == set(ANSWERS)
    for name, check in CHECKS.items():
        result = check(ANSWERS[name])
        assert result.solved, result


def test_placeholders_are_not_attempted() -> None:
    for check in CHECKS.values():
        result = check(None)
        assert not result.solved and not result.attempted and "not solved yet" in str(result).lower()


def test_nearest_rank_is_accepted_too() -> None:
    import math

    def nearest(samples: list[float]) -> float:
        ordered = sorted(samples)
        return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]

    assert check_p95(nearest).solved


def test_the_mean_is_not_p95() -> None:
    result = check_p95(lambda xs: statistics.fmean(xs))
    assert not result.solved and result.attempted and "mean" in result.message


def test_the_maximum_is_not_p95() -> None:
    result = check_p95(max)
    assert not result.solved and "maximum" in result.message


def test_forgetting_to_sort() -> None:
    result = check_p95(lambda xs: xs[int(0.95 * len(xs))])
    assert not result.solved and "unsorted" in result.message


def test_sorting_in_place_is_refused() -> None:
    def in_place(xs: list[float]) -> float:
        xs.sort()
        return xs[round(0.95 * (len(xs) - 1))]

    result = check_p95(in_place)
    assert not result.solved and "sort" in result.message


def test_a_crashing_answer_becomes_a_verdict() -> None:
    result = check_p95(lambda xs: 1 / 0)
    assert not result.solved and "ZeroDivisionError" in result.message


def test_the_sample_sets_are_not_sorted() -> None:
    assert all(s != sorted(s) for s in SAMPLE_SETS)


def test_flawed_benchmarks() -> None:
    assert check_flawed("A, C, D").solved
    missing = check_flawed({"A", "D"})
    assert not missing.solved and "1 flawed write-up(s) are missing" in missing.message and "C" not in missing.message
    extra = check_flawed({"A", "B", "C", "D"})
    assert not extra.solved and "1 of your picks are honest" in extra.message and "B" not in extra.message
    unknown = check_flawed({"A", "Z"})
    assert not unknown.solved and "no write-up" in unknown.message
    assert not check_flawed(42).solved
