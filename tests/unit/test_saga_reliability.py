"""Reliability of the orchestrator: a failure at every step, and a crash at every point, for sagas of N steps.

- failure at step k ⇒ steps 1..k-1 are compensated in reverse order, exactly once;
- a crash at any point followed by ``resume`` ⇒ the same effects and the same final status as a run that never
  crashed (no step's effect repeated, no compensation skipped).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from course_lib.sagas import Orchestrator, SagaDefinition, SQLiteSagaLog, Step, StepContext
from course_lib.shop.saga import order_data, order_saga
from course_lib.shop.services import BusinessRuleViolation, Shop, SimulatedCrash

N = 5


class Ledger:
    """A remote service that records real effects, deduplicated by idempotency key, and can refuse a step."""

    def __init__(self, fail_at: str | None = None) -> None:
        self.effects: list[str] = []
        self.seen: set[str] = set()
        self.fail_at = fail_at

    def call(self, what: str, key: str) -> None:
        if what == self.fail_at:
            raise BusinessRuleViolation(f"{what} refused")
        if key not in self.seen:
            self.seen.add(key)
            self.effects.append(what)


def saga_of(n: int, ledger: Ledger) -> SagaDefinition:
    def do(name: str):
        return lambda ctx: ledger.call(f"do {name}", ctx.idempotency_key)

    def undo(name: str):
        return lambda ctx: ledger.call(f"undo {name}", ctx.idempotency_key)

    return SagaDefinition("n-steps", tuple(Step(f"s{i}", do(f"s{i}"), undo(f"s{i}")) for i in range(1, n + 1)))


@pytest.fixture
def log(tmp_path: Path) -> Iterator[SQLiteSagaLog]:
    saga_log = SQLiteSagaLog(tmp_path / "sagas.db")
    yield saga_log
    saga_log.close()


@pytest.mark.parametrize("k", range(1, N + 1))
def test_failure_at_step_k_compensates_1_to_k_minus_1_in_reverse_exactly_once(log: SQLiteSagaLog, k: int) -> None:
    ledger = Ledger(fail_at=f"do s{k}")
    state = Orchestrator(saga_of(N, ledger), log, sleep=lambda _: None).start("saga", {})
    done = [f"do s{i}" for i in range(1, k)]
    undone = [f"undo s{i}" for i in range(k - 1, 0, -1)]
    assert ledger.effects == done + undone
    assert state.status == "compensated"
    assert state.failed_step == f"s{k}"
    assert state.compensated == [f"s{i}" for i in range(k - 1, 0, -1)]


def crash_points(make_run) -> list[str]:
    """Every point at which the uninterrupted run could have died, in order of occurrence."""
    seen: list[str] = []
    make_run(seen.append)
    return seen


SCENARIOS = [None, *(f"do s{k}" for k in range(1, N + 1))]


@pytest.mark.parametrize("fail_at", SCENARIOS, ids=lambda f: f"fail-{f}" if f else "happy")
def test_crash_at_every_point_then_resume_equals_uninterrupted_run(tmp_path: Path, fail_at: str | None) -> None:
    def run(hook, db: Path, ledger: Ledger):
        saga_log = SQLiteSagaLog(db)
        try:
            return Orchestrator(saga_of(N, ledger), saga_log, sleep=lambda _: None, crash_hook=hook).start("saga", {})
        finally:
            saga_log.close()

    reference = Ledger(fail_at)
    expected = run(None, tmp_path / "reference.db", reference)
    points = crash_points(lambda hook: run(hook, tmp_path / "points.db", Ledger(fail_at)))
    assert len(points) >= 2 * (len(reference.effects) or 1)
    for n, point in enumerate(points):
        ledger = Ledger(fail_at)
        db = tmp_path / f"crash-{n}.db"

        def die_once(where: str, point: str = point, fired: list[bool] = []) -> None:  # noqa: B006
            if where == point and not fired:
                fired.append(True)
                raise SimulatedCrash(where)

        with pytest.raises(SimulatedCrash):
            run(die_once, db, ledger)
        restarted = SQLiteSagaLog(db)  # a new process: new connection, new orchestrator, same log
        try:
            resumed = Orchestrator(saga_of(N, ledger), restarted, sleep=lambda _: None).resume_all()
        finally:
            restarted.close()
        assert [s.status for s in resumed] == [expected.status], point
        assert ledger.effects == reference.effects, f"crash at {point!r}"
        assert resumed[0].compensated == expected.compensated


@pytest.mark.parametrize("failing", [None, "inventory.reserve", "payment.charge", "shipping.create_shipment",
                                     "notifications.send"])
def test_shop_saga_crash_anywhere_resumes_to_the_same_shop_state(tmp_path: Path, failing: str | None) -> None:
    kind = {"inventory.reserve": "out_of_stock", "payment.charge": "declined"}.get(failing or "", "unavailable")

    def fresh_shop() -> Shop:
        shop = Shop.seeded(3)
        if failing:
            shop.faults.fail(failing, kind, times=None)  # type: ignore[arg-type]
        return shop

    def run(shop: Shop, db: Path, hook=None):
        saga_log = SQLiteSagaLog(db)
        try:
            return Orchestrator(order_saga(shop), saga_log, sleep=lambda _: None, crash_hook=hook).start(
                "o-9", order_data("o-9"))
        finally:
            saga_log.close()

    reference_shop = fresh_shop()
    expected = run(reference_shop, tmp_path / "ref.db")
    points: list[str] = []
    run(fresh_shop(), tmp_path / "points.db", points.append)
    for n, point in enumerate(points):
        shop = fresh_shop()

        def die(where: str, point: str = point, fired: list[bool] = []) -> None:  # noqa: B006
            if where == point and not fired:
                fired.append(True)
                raise SimulatedCrash(where)

        with pytest.raises(SimulatedCrash):
            run(shop, tmp_path / f"c{n}.db", die)
        saga_log = SQLiteSagaLog(tmp_path / f"c{n}.db")
        try:
            (state,) = Orchestrator(order_saga(shop), saga_log, sleep=lambda _: None).resume_all()
        finally:
            saga_log.close()
        assert state.status == expected.status
        assert shop.snapshot() == reference_shop.snapshot(), f"crash at {point!r}"


def test_context_carries_stable_idempotency_key_across_retries(log: SQLiteSagaLog) -> None:
    keys: list[str] = []

    def flaky(ctx: StepContext) -> None:
        keys.append(ctx.idempotency_key)
        if ctx.attempt < 3:
            raise ConnectionError("try again")

    Orchestrator(SagaDefinition("k", (Step("a", flaky),)), log, sleep=lambda _: None).start("x")
    assert keys == ["x/a/do"] * 3
