from __future__ import annotations

import itertools

import pytest

from course_lib.waiting import WaitTimeout, wait_until


def test_returns_the_first_truthy_value() -> None:
    counter = itertools.count()
    assert wait_until(lambda: next(counter) >= 3 and "ready", timeout=5, interval=0.001) == "ready"


def test_times_out_naming_what_it_waited_for() -> None:
    with pytest.raises(WaitTimeout, match=r"projection at position 5.*last value: 0"):
        wait_until(lambda: 0, timeout=0.05, interval=0.01, what="projection at position 5")
