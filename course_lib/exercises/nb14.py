"""Notebook 14's exercise: a bounded reordering buffer (a resequencer) that restores per-key order.

A retry through a delay queue, a requeue or two competing consumers deliver a key's messages out of order. When
each message carries its per-key sequence number (1, 2, 3 … per order id), the consumer can put them back in
order: hold what arrives early, release it when the gap before it is filled. The learner writes a class
``Resequencer(capacity)`` whose ``push(key, seq, item)`` returns the items that are now deliverable, in order.

The rules the check runs: numbering starts at 1 for every key; keys are independent; a duplicate (already
released, or already held) returns ``[]`` and changes nothing; and the buffer holds at most ``capacity`` items
over all keys — a push that would need to hold one more raises ``OverflowError`` (the consumer then nacks it
for later: backpressure instead of unbounded memory). A push that fills a gap is never refused.
"""

from __future__ import annotations

from typing import Any

from course_lib.exercises import Check, CheckResult, Hints, exercise, not_attempted, solved, wrong

HINTS = Hints(
    concept="A resequencer restores order from sequence numbers: for each key it knows which number it expects "
            "next; anything that arrives early waits in a buffer until the gap before it is filled. Memory is "
            "finite, so the buffer needs a bound and a way to say 'not now'.",
    approach="Keep, per key, the next number you expect (the first is 1) and the early arrivals keyed by their "
             "number. When the expected one arrives, release it and then everything consecutive that was "
             "waiting. Ignore numbers you already released or already hold. Refuse (raise) only when an item "
             "would have to wait and the buffer is already full.",
    skeleton="class Resequencer:\n    def __init__(self, capacity):\n        ...  # per key: what comes next, "
             "and who is waiting\n\n    def push(self, key, seq, item):\n        if ...:  # seen before\n"
             "            return []\n        if ...:  # early: it has to wait\n            ...\n"
             "            return []\n        released = [item]\n        ...  # then whoever was waiting "
             "right behind it\n        return released",
)

Push = tuple[str, int, str]


def _run(resequencer: Any, pushes: list[Push]) -> list[list[str] | str]:
    """Each push's result, or ``"refused"`` where it raised OverflowError."""
    results: list[list[str] | str] = []
    for key, seq, item in pushes:
        try:
            results.append(list(resequencer.push(key, seq, item)))
        except OverflowError:
            results.append("refused")
    return results


CASES: list[tuple[str, int, list[Push], list[list[str] | str]]] = [
    ("in order, every item is released at once", 10,
     [("o1", 1, "a"), ("o1", 2, "b"), ("o1", 3, "c")],
     [["a"], ["b"], ["c"]]),
    ("3 and 4 arrive before 2", 10,
     [("o1", 1, "a"), ("o1", 3, "c"), ("o1", 4, "d"), ("o1", 2, "b"), ("o1", 5, "e")],
     [["a"], [], [], ["b", "c", "d"], ["e"]]),
    ("two keys interleaved: o2 does not wait for o1's gap", 10,
     [("o1", 2, "o1-b"), ("o2", 1, "o2-a"), ("o2", 2, "o2-b"), ("o1", 1, "o1-a")],
     [[], ["o2-a"], ["o2-b"], ["o1-a", "o1-b"]]),
    ("duplicates: a redelivery of a released item, and one of a waiting item", 10,
     [("o1", 1, "a"), ("o1", 1, "a"), ("o1", 3, "c"), ("o1", 3, "c"), ("o1", 2, "b"), ("o1", 3, "c")],
     [["a"], [], [], [], ["b", "c"], []]),
    ("capacity 2: a third early item is refused, a gap-filler never is", 2,
     [("o1", 3, "c"), ("o2", 2, "x2"), ("o1", 4, "d"), ("o1", 1, "a"), ("o1", 2, "b"), ("o1", 4, "d"),
      ("o2", 1, "x1")],
     [[], [], "refused", ["a"], ["b", "c"], ["d"], ["x1", "x2"]]),
]


def _describe(result: list[str] | str) -> str:
    return "raised OverflowError" if result == "refused" else f"returned {result}"


@exercise("nb14.resequencer", title="a bounded reordering buffer", level="★★", minutes=15, hints=HINTS)
def check_resequencer(resequencer_class: Any) -> CheckResult:
    """Does ``resequencer_class(capacity).push`` release each key's items in order, once, within its bound?"""
    if resequencer_class is None:
        return not_attempted("define your class and assign it to `Resequencer`")
    if not isinstance(resequencer_class, type):
        return wrong(f"assign the class itself, not an instance of {type(resequencer_class).__name__}")
    for title, capacity, pushes, expected in CASES:
        got = _run(resequencer_class(capacity), pushes)
        for step, (push, want, have) in enumerate(zip(pushes, expected, got, strict=True), start=1):
            if want != have:
                key, seq, item = push
                return wrong(f"case '{title}' (capacity {capacity}): push #{step} ({key!r}, {seq}, {item!r}) "
                             f"{_describe(have)}; expected it to have {_describe(want)}")
    return solved(f"{len(CASES)} cases: early items wait, gaps release them in order, duplicates are dropped, "
                  "keys are independent, and the buffer never holds more than its capacity")


CHECKS: dict[str, Check] = {"resequencer": check_resequencer}
