"""Notebook 12's exercise: write one of the chaos drill's invariants — the money check.

The learner writes ``money_problems(charges, refunds, paid, cancelled)``: ``charges`` and ``refunds`` are the
payment service's ``(order_id, cents)`` lists, ``paid`` maps each paid order to its total, ``cancelled`` is the set
of cancelled orders. It returns the set of order ids whose money is wrong: a paid order whose charges minus refunds
is not its total (charged twice, or never), or a cancelled order that still holds money.
"""

from __future__ import annotations

from typing import Any

from course_lib.exercises import Check, CheckResult, Hints, exercise, not_attempted, solved, wrong

HINTS = Hints(
    concept="An invariant is a statement about money that must hold however the run went: what was taken from a "
            "customer minus what was given back must match what the order says — the full total for a paid "
            "order, nothing for a cancelled one.",
    approach="Compute every order's balance from both lists (charges add, refunds subtract). Then judge every "
             "order that appears in paid or in cancelled — including one with no money movement at all, whose "
             "balance is 0.",
    skeleton="def money_problems(charges, refunds, paid, cancelled):\n    balance = defaultdict(int)\n"
             "    for order_id, cents in charges:\n        ...\n    for order_id, cents in refunds:\n        ...\n"
             "    return {...} | {...}",
)

Case = tuple[list[tuple[str, int]], list[tuple[str, int]], dict[str, int], set[str], set[str], str]

CASES: list[Case] = [
    # charges, refunds, paid totals, cancelled, expected problems, what the case is about
    ([("a", 500), ("b", 300)], [], {"a": 500, "b": 300}, set(), set(), "two orders paid once each"),
    ([("a", 500), ("a", 500)], [], {"a": 500}, set(), {"a"}, "a double charge"),
    ([("a", 500), ("c", 200)], [("c", 200)], {"a": 500}, {"c"}, set(), "a cancelled order refunded in full"),
    ([("c", 200)], [], {}, {"c"}, {"c"}, "a cancelled order that kept the money"),
    ([], [], {"d": 900}, set(), {"d"}, "a paid order that was never charged"),
    ([("e", 400), ("e", 400)], [("e", 400)], {"e": 400}, set(), set(),
     "a double charge that was refunded once (balance right)"),
]


@exercise("nb12.money_problems", title="the chaos drill's money invariant", level="★★", minutes=12,
          hints=HINTS)
def check_money_problems(money_problems: Any) -> CheckResult:
    """Run the learner's invariant on hand-made ledgers, each with a known answer."""
    if money_problems is None:
        return not_attempted("write money_problems(charges, refunds, paid, cancelled) returning the bad order ids")
    if not callable(money_problems):
        return wrong(f"money_problems must be a function, got {type(money_problems).__name__}")
    for charges, refunds, paid, cancelled, expected, about in CASES:
        got = money_problems(list(charges), list(refunds), dict(paid), set(cancelled))
        try:
            got_set = set(got)
        except TypeError:
            return wrong(f"money_problems returned {got!r}; return a set of order ids")
        if got_set != expected:
            return wrong(f"for {about}: expected {sorted(expected) or 'no problems'}, got {sorted(got_set) or 'none'}")
    return solved(f"all {len(CASES)} ledgers judged right: double charges, kept money and missing charges are "
                  "found, refunded cancellations pass")


CHECKS: dict[str, Check] = {"money_problems": check_money_problems}
