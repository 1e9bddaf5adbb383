"""course_lib.perf.stats: the bootstrap confidence interval of a ratio measured in interleaved pairs."""

from __future__ import annotations

import math
import random

import pytest

from course_lib.perf.stats import Interval, bootstrap_interval, paired_ratios, ratio_interval


def interleaved_runs(true_ratio: float, noise: float, pairs: int, seed: int) -> tuple[list[float], list[float]]:
    """Synthetic throughputs of a subject and a baseline measured in rounds: each round has a load (shared by
    both runs of the pair, as interleaving intends) and each run its own log-normal noise of ``noise``."""
    rng = random.Random(seed)
    subject, baseline = [], []
    for _ in range(pairs):
        load = rng.uniform(1.0, 3.0)  # a busy neighbour slows the whole round
        baseline.append(1000 / load * math.exp(rng.gauss(0, noise)))
        subject.append(1000 * true_ratio / load * math.exp(rng.gauss(0, noise)))
    return subject, baseline


def test_the_interval_contains_the_true_ratio() -> None:
    subject, baseline = interleaved_runs(1.5, noise=0.1, pairs=12, seed=1)
    interval = ratio_interval(subject, baseline)
    assert 1.5 in interval
    assert interval.low < interval.estimate < interval.high
    assert interval.n == 12 and interval.confidence == 0.95


def test_a_95_percent_interval_covers_the_true_ratio_about_nine_times_in_ten_or_more() -> None:
    # the percentile bootstrap of a median is a little optimistic with ten pairs: 0.89-0.94 in 1,000 trials
    covered = sum(1.5 in ratio_interval(*interleaved_runs(1.5, noise=0.15, pairs=10, seed=seed), resamples=300)
                  for seed in range(300))
    assert 0.85 <= covered / 300 < 0.99  # neither overconfident nor uselessly wide


def test_pairing_cancels_what_a_round_shares() -> None:
    # the load swings 3x from round to round, but hits both runs of a round alike: their ratio does not move
    subject, baseline = interleaved_runs(2.0, noise=0.0, pairs=8, seed=3)
    assert max(baseline) / min(baseline) > 1.5
    interval = ratio_interval(subject, baseline)
    assert interval.low == pytest.approx(2.0) and interval.high == pytest.approx(2.0)


def test_noisier_runs_give_a_wider_interval() -> None:
    calm = ratio_interval(*interleaved_runs(1.5, noise=0.03, pairs=10, seed=5))
    noisy = ratio_interval(*interleaved_runs(1.5, noise=0.3, pairs=10, seed=5))
    assert noisy.relative_width > 3 * calm.relative_width


def test_more_pairs_give_a_narrower_interval() -> None:
    few = ratio_interval(*interleaved_runs(1.5, noise=0.2, pairs=5, seed=7))
    many = ratio_interval(*interleaved_runs(1.5, noise=0.2, pairs=40, seed=7))
    assert many.relative_width < few.relative_width


def test_the_same_seed_gives_the_same_interval() -> None:
    subject, baseline = interleaved_runs(1.2, noise=0.2, pairs=9, seed=11)
    first, again = ratio_interval(subject, baseline, seed=42), ratio_interval(subject, baseline, seed=42)
    assert first == again
    other = ratio_interval(subject, baseline, seed=43)
    assert other.estimate == first.estimate and (other.low, other.high) != (first.low, first.high)
    assert ratio_interval(subject, baseline).seed == ratio_interval(subject, baseline).seed  # a fixed default


def test_the_median_keeps_one_disturbed_pair_from_moving_the_interval() -> None:
    subject, baseline = interleaved_runs(1.5, noise=0.05, pairs=11, seed=13)
    disturbed = [*subject[:-1], subject[-1] / 5]  # one subject run hit by a pause the baseline did not see
    calm, hit = ratio_interval(subject, baseline), ratio_interval(disturbed, baseline)
    assert hit.estimate in calm and 1.5 in hit
    ratios = paired_ratios(disturbed, baseline)
    assert sum(ratios) / len(ratios) not in calm  # the mean would have moved out of it


def test_paired_ratios_and_their_errors_name_the_fix() -> None:
    assert paired_ratios([2.0, 3.0], [1.0, 2.0]) == [2.0, 1.5]
    with pytest.raises(ValueError, match="same number of times"):
        paired_ratios([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="baseline case did its work"):
        paired_ratios([1.0], [0.0])


def test_bootstrap_interval_refuses_what_it_cannot_answer() -> None:
    with pytest.raises(ValueError, match="measure more repeats"):
        bootstrap_interval([1.0])
    with pytest.raises(ValueError, match=r"e\.g\. 0\.95"):
        bootstrap_interval([1.0, 2.0], confidence=95)
    with pytest.raises(ValueError, match="at least 100"):
        bootstrap_interval([1.0, 2.0], resamples=10)


def test_interval_reads_as_a_sentence() -> None:
    interval = Interval(estimate=1.5, low=1.4, high=1.65, confidence=0.95, n=10, resamples=2000, seed=1)
    assert str(interval) == "1.5 (95% CI 1.4–1.65, n=10)"
    assert interval.relative_width == pytest.approx(0.25 / 1.5)
    assert 1.45 in interval and 1.7 not in interval
