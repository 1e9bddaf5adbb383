"""Plausible wrong answers to every exercise, written the way a learner gets them wrong, beside the solutions.

``solutions/wrong/nbNN.py`` holds ``WRONG: dict[check name, list[Wrong]]`` — at least four per check, each a
mistake a learner makes (off by one, wrong order, a key that merges distinct things, the effect in the wrong
transaction …) — and ``GIVEAWAYS: dict[check name, tuple[str, ...]]``: fragments of the reference solution that no
feedback or hint may contain. ``tests/unit/test_exercises_all.py`` feeds every wrong answer to its check and
asserts it is rejected with feedback that gives nothing away.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Wrong:
    """One wrong answer: what the learner got wrong, and the answer itself."""

    mistake: str
    answer: Any
