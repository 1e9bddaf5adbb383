"""Notebook 13's check accepts the reference solution and rejects wrong answers with a reason."""

from __future__ import annotations

from course_lib.exercises.nb13 import CHECKS, check_money_problems
from solutions.nb13 import ANSWERS


def test_every_check_accepts_the_reference_solution() -> None:
    assert set(CHECKS) == set(ANSWERS)
    for name, check in CHECKS.items():
        result = check(ANSWERS[name])
        assert result.solved, result.message


def test_placeholder_is_not_attempted() -> None:
    result = check_money_problems(None)
    assert not result.solved and not result.attempted
    assert "not solved yet" in str(result).lower()


def test_counting_charges_instead_of_balances_is_wrong() -> None:
    def charged_twice_only(charges, refunds, paid, cancelled):  # type: ignore[no-untyped-def]
        seen = [o for o, _ in charges]
        return {o for o in seen if seen.count(o) > 1}

    result = check_money_problems(charged_twice_only)
    assert not result.solved and result.attempted
    assert "kept the money" in result.message or "refunded once" in result.message


def test_ignoring_paid_orders_without_charges_is_wrong() -> None:
    def only_charged(charges, refunds, paid, cancelled):  # type: ignore[no-untyped-def]
        balance: dict[str, int] = {}
        for o, c in charges:
            balance[o] = balance.get(o, 0) + c
        for o, c in refunds:
            balance[o] = balance.get(o, 0) - c
        return {o for o, b in balance.items() if (o in paid and b != paid[o]) or (o in cancelled and b != 0)}

    result = check_money_problems(only_charged)
    assert not result.solved
    assert "never charged" in result.message and result.hints


def test_a_crashing_answer_becomes_a_verdict() -> None:
    result = check_money_problems(lambda *args: 1 / 0)
    assert not result.solved and "ZeroDivisionError" in result.message
    assert not check_money_problems("not a function").solved
