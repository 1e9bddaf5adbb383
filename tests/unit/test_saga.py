"""The orchestrator, the saga log and the shop's services, without any external service."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from course_lib.sagas import (
    Backoff,
    Orchestrator,
    SagaDefinition,
    SagaDefinitionError,
    SQLiteSagaLog,
    Step,
    StepContext,
    UnknownSaga,
    definition_mermaid,
    run_mermaid,
    unfinished,
)
from course_lib.sagas.log import fold
from course_lib.shop.saga import order_data, order_saga
from course_lib.shop.services import (
    FaultInjector,
    OutOfStock,
    PaymentService,
    ServiceTimeout,
    Shop,
    SimulatedCrash,
)


@pytest.fixture
def log(tmp_path: Path) -> SQLiteSagaLog:
    saga_log = SQLiteSagaLog(tmp_path / "sagas.db")
    yield saga_log
    saga_log.close()


def make(shop: Shop, log: SQLiteSagaLog, **kwargs: object) -> tuple[Orchestrator, list[float]]:
    delays: list[float] = []
    return Orchestrator(order_saga(shop), log, sleep=delays.append, **kwargs), delays  # type: ignore[arg-type]


def test_happy_path_runs_every_step_once(log: SQLiteSagaLog) -> None:
    shop = Shop.seeded(0)
    orch, _ = make(shop, log)
    state = orch.start("s1", order_data("o-1", {"mug": 2}, 2500))
    assert state.status == "completed"
    assert state.completed == ["reserve_inventory", "charge_payment", "create_shipment", "send_notification"]
    assert shop.inventory.stock["mug"] == 8
    assert shop.payment.charges == [("o-1", 2500)]
    assert shop.shipping.shipments == {"o-1": "trk-o-1"}
    assert shop.notifications.sent == [("o-1", "Order o-1 is on its way: trk-o-1")]
    assert state.data["payment_id"] == "pay-o-1-1"


def test_declined_card_compensates_reservation_without_retrying(log: SQLiteSagaLog) -> None:
    shop = Shop.seeded(0)
    shop.faults.fail("payment.charge", "declined", times=None)
    orch, delays = make(shop, log)
    state = orch.start("s1", order_data())
    assert state.status == "compensated"
    assert state.failed_step == "charge_payment"
    assert "CardDeclined" in state.error
    assert state.compensated == ["reserve_inventory"]
    assert shop.inventory.stock["mug"] == 10
    assert delays == []  # a business "no" is not retried
    assert shop.payment.calls == 1


def test_transient_failure_is_retried_with_growing_backoff(log: SQLiteSagaLog) -> None:
    shop = Shop.seeded(0)
    shop.faults.fail("shipping.create_shipment", "unavailable", times=2)
    orch, delays = make(shop, log, backoff=Backoff(initial_s=0.001, factor=3, max_s=1))
    state = orch.start("s1", order_data())
    assert state.status == "completed"
    assert delays == pytest.approx([0.001, 0.003])
    assert state.attempts["create_shipment"] == 3


def test_timeout_after_effect_is_safe_to_retry_with_the_same_key(log: SQLiteSagaLog) -> None:
    shop = Shop.seeded(0)
    shop.faults.fail("payment.charge", "timeout", times=1)  # the charge happens, the reply is lost
    orch, _ = make(shop, log)
    state = orch.start("s1", order_data())
    assert state.status == "completed"
    assert shop.payment.charges == [("o-1", 2500)]  # charged once, although called twice
    assert shop.payment.calls == 2 and shop.payment.replays == 1


def test_without_idempotency_key_a_retry_after_timeout_charges_twice() -> None:
    payment = PaymentService(FaultInjector())
    payment.faults.fail("payment.charge", "timeout", times=1)
    with pytest.raises(ServiceTimeout):
        payment.charge("o-1", 100, key="attempt-1")
    payment.charge("o-1", 100, key="attempt-2")  # a fresh key per attempt: the service cannot tell
    assert payment.charges == [("o-1", 100), ("o-1", 100)]


def test_exhausted_retries_fail_the_step(log: SQLiteSagaLog) -> None:
    shop = Shop.seeded(0)
    shop.faults.fail("shipping.create_shipment", "unavailable", times=None)
    orch, delays = make(shop, log)
    state = orch.start("s1", order_data())
    assert state.status == "compensated"
    assert len(delays) == 2  # retries=2 by default
    assert state.compensated == ["charge_payment", "reserve_inventory"]
    assert shop.payment.balance("o-1") == 0


def test_step_timeout_counts_as_a_failed_attempt(log: SQLiteSagaLog) -> None:
    release = threading.Event()
    calls: list[int] = []

    def slow_then_fast(ctx: StepContext) -> None:
        calls.append(ctx.attempt)
        if ctx.attempt == 1:
            release.wait(5)  # blocks until the test releases it, far beyond the step's timeout

    saga = SagaDefinition("t", (Step("slow", slow_then_fast, retries=1, timeout_s=0.05),))
    orch = Orchestrator(saga, log, sleep=lambda _: None)
    try:
        state = orch.start("s1")
    finally:
        release.set()
        orch.close()
    assert state.status == "completed"
    assert calls == [1, 2]
    assert any(e.kind == "attempt_failed" and "StepTimeout" in e.detail for e in state.entries)


def test_failing_compensation_ends_in_needs_attention_and_can_be_retried(log: SQLiteSagaLog) -> None:
    shop = Shop.seeded(0)
    shop.faults.fail("payment.charge", "declined", times=None)
    shop.faults.fail("inventory.release", "unavailable", times=None)
    orch, delays = make(shop, log, compensation_retries=2)
    state = orch.start("s1", order_data())
    assert state.status == "needs_attention"
    assert "release_inventory" in state.error and "retry_compensations" in state.error
    assert shop.inventory.stock["mug"] == 8  # visibly not undone yet
    assert len(delays) == 2
    assert unfinished(log) == []  # not resumed automatically: a person must look
    shop.faults.clear()
    state = orch.retry_compensations("s1")
    assert state.status == "compensated"
    assert shop.inventory.stock["mug"] == 10


def test_out_of_stock_fails_first_step_with_nothing_to_compensate(log: SQLiteSagaLog) -> None:
    shop = Shop.seeded(0)
    orch, _ = make(shop, log)
    state = orch.start("s1", order_data(items={"poster": 3}))
    assert state.status == "compensated"
    assert state.failed_step == "reserve_inventory" and "OutOfStock" in state.error
    assert state.compensated == []


def test_log_survives_reopening_and_resume_of_finished_saga_is_a_no_op(tmp_path: Path) -> None:
    shop = Shop.seeded(0)
    first = SQLiteSagaLog(tmp_path / "l.db")
    Orchestrator(order_saga(shop), first).start("s1", order_data())
    first.close()
    again = SQLiteSagaLog(tmp_path / "l.db")
    state = Orchestrator(order_saga(shop), again).resume("s1")
    again.close()
    assert state.status == "completed"
    assert shop.payment.calls == 1


def test_unknown_saga_and_duplicate_start_are_clear_errors(log: SQLiteSagaLog) -> None:
    orch, _ = make(Shop.seeded(0), log)
    with pytest.raises(UnknownSaga, match="start it with"):
        orch.resume("nope")
    orch.start("s1", order_data())
    with pytest.raises(Exception, match="resume"):
        orch.start("s1", order_data())


def test_definition_validation() -> None:
    step = Step("a", lambda ctx: None)
    with pytest.raises(SagaDefinitionError, match="unique"):
        SagaDefinition("x", (step, step))
    with pytest.raises(SagaDefinitionError, match="has no step"):
        SagaDefinition("x", (step,)).index("b")
    saga = SagaDefinition("x", (step,)).then(Step("c", lambda ctx: None)).insert_after("a", Step("b", lambda c: None))
    assert saga.step_names == ["a", "b", "c"]


def test_fault_injector_is_repeatable_for_a_seed() -> None:
    def draws(seed: int) -> list[object]:
        faults = FaultInjector(seed)
        faults.fail("payment.charge", "declined", times=None, probability=0.3)
        return [faults.draw("payment.charge") for _ in range(50)]

    assert draws(7) == draws(7)
    assert draws(7) != draws(8)
    assert 5 < sum(d is not None for d in draws(7)) < 30
    with pytest.raises(ValueError, match="unknown fault kind"):
        FaultInjector().fail("x", "boom")  # type: ignore[arg-type]


def test_crash_fault_is_not_swallowed_by_the_orchestrator(log: SQLiteSagaLog) -> None:
    shop = Shop.seeded(0)
    shop.faults.fail("shipping.create_shipment", "crash")
    orch, _ = make(shop, log)
    with pytest.raises(SimulatedCrash):
        orch.start("s1", order_data())
    assert unfinished(log) == ["s1"]
    state = Orchestrator(order_saga(shop), log).resume("s1")
    assert state.status == "completed"
    assert shop.snapshot()["charges"] == [("o-1", 2500)]


def test_inventory_out_of_stock_raises() -> None:
    shop = Shop.seeded(0)
    with pytest.raises(OutOfStock, match="poster"):
        shop.inventory.reserve("o", {"poster": 5}, key="k")
    assert shop.inventory.stock["poster"] == 2


def test_mermaid_definition_and_run_path(log: SQLiteSagaLog) -> None:
    shop = Shop.seeded(0)
    saga = order_saga(shop)
    text = definition_mermaid(saga)
    assert text.startswith("flowchart LR")
    assert 'S2["charge_payment"]' in text and 'C2["refund_payment"]' in text
    assert "S3 -. fails .-> C2" in text and "C2 --> C1" in text
    assert "C4" not in text  # send_notification has nothing to undo
    shop.faults.fail("shipping.create_shipment", "unavailable", times=None)
    state = Orchestrator(saga, log, sleep=lambda _: None).start("s1", order_data())
    run = run_mermaid(saga, state)
    for line in ("class S1 succeeded", "class S2 succeeded", "class S3 failed", "class S4 idle",
                 "class C2 compensated", "class C1 compensated", "class C3 idle", "class undone compensated"):
        assert line in run


def test_fold_tracks_data_from_step_results(log: SQLiteSagaLog) -> None:
    orch, _ = make(Shop.seeded(0), log)
    orch.start("s1", order_data())
    state = fold(log.entries("s1"))
    assert state.data["tracking_number"] == "trk-o-1"
    assert [e.seq for e in state.entries] == list(range(1, len(state.entries) + 1))


def test_open_log_by_url(tmp_path: Path) -> None:
    from course_lib.sagas import open_log

    with open_log(f"sqlite:///{tmp_path}/by-url.db") as saga_log:
        Orchestrator(order_saga(Shop.seeded(0)), saga_log).start("s1", order_data())
        assert saga_log.saga_ids() == ["s1"]
    with pytest.raises(ValueError, match="sqlite:///path or postgresql"), open_log("mysql://nope"):
        pass
    with pytest.raises(ValueError, match="synchronous"):
        SQLiteSagaLog(tmp_path / "x.db", synchronous="SOMETIMES")
