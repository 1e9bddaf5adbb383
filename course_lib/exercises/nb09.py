"""Notebook 09's exercise: add a gift-wrapping step, with its compensation, to the order saga.

The learner writes ``add_gift_wrap(saga, giftwrap)`` returning a new definition in which a step named
``wrap_gift`` runs right after ``charge_payment``: its action calls ``giftwrap.wrap(order_id, key=...)``, its
compensation ``giftwrap.unwrap(order_id, key=...)``, both with the context's idempotency key. The check runs the
result three ways: happy path, shipping failing (so the wrap must be undone, before the refund), and a wrap call
whose reply times out (so only the idempotency key prevents wrapping twice).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from course_lib.domain.services import FaultKind, GiftWrapService, Shop
from course_lib.exercises import CheckResult, guarded, not_attempted, solved, wrong
from course_lib.sagas import Orchestrator, SagaDefinition, SagaState, SqliteSagaLog, order_data, order_saga

_HINTS = (
    "Build Step('wrap_gift', action, compensation) and return saga.insert_after('charge_payment', step).",
    "The action is a function of ctx: giftwrap.wrap(ctx.data['order_id'], key=ctx.idempotency_key).",
    "The compensation undoes it: giftwrap.unwrap(ctx.data['order_id'], key=ctx.idempotency_key).",
)


def _run(add_gift_wrap: Callable[..., Any], fault: tuple[str, FaultKind] | None) -> tuple[SagaState, Shop,
                                                                                           GiftWrapService]:
    shop = Shop.seeded(0)
    giftwrap = GiftWrapService(shop.faults)
    if fault is not None:
        shop.faults.fail(fault[0], fault[1], times=None if fault[1] != "timeout" else 1)
    saga = add_gift_wrap(order_saga(shop), giftwrap)
    if not isinstance(saga, SagaDefinition):
        raise TypeError(f"add_gift_wrap must return a SagaDefinition, got {type(saga).__name__}")
    with tempfile.TemporaryDirectory() as tmp:
        log = SqliteSagaLog(Path(tmp) / "saga.db")
        try:
            state = Orchestrator(saga, log, sleep=lambda _: None).start("ex-1", order_data("o-1"))
        finally:
            log.close()
    return state, shop, giftwrap


@guarded
def check_gift_wrap(add_gift_wrap: Any) -> CheckResult:
    """Run the learner's saga: happy, failing after the wrap, and with a timed-out wrap call."""
    if add_gift_wrap is None:
        return not_attempted("write add_gift_wrap(saga, giftwrap) returning the saga with a wrap_gift step",
                             _HINTS[0])
    if not callable(add_gift_wrap):
        return wrong(f"add_gift_wrap must be a function, got {type(add_gift_wrap).__name__}", _HINTS[0])
    state, _shop, giftwrap = _run(add_gift_wrap, None)
    expected_order = ["reserve_inventory", "charge_payment", "wrap_gift", "create_shipment", "send_notification"]
    if state.completed != expected_order:
        return wrong(f"the saga ran {state.completed}; expected {expected_order}", _HINTS[0])
    if giftwrap.wrapped != ["o-1"]:
        return wrong(f"on the happy path the gift was wrapped {len(giftwrap.wrapped)} times, expected once",
                     _HINTS[1])
    state, _shop, giftwrap = _run(add_gift_wrap, ("shipping.create_shipment", "rejected"))
    if giftwrap.unwrapped != ["o-1"]:
        return wrong("when shipping fails after the wrap, the wrap must be undone exactly once "
                     f"(unwrapped: {giftwrap.unwrapped})", _HINTS[2])
    if state.compensated != ["wrap_gift", "charge_payment", "reserve_inventory"]:
        return wrong(f"compensations ran as {state.compensated}; they must run in reverse order of the steps",
                     _HINTS[0])
    state, _shop, giftwrap = _run(add_gift_wrap, ("giftwrap.wrap", "timeout"))
    if len(giftwrap.wrapped) != 1:
        return wrong(f"a wrap call whose reply timed out was retried and wrapped {len(giftwrap.wrapped)} times: "
                     "pass the context's idempotency key so the retry is recognised", _HINTS[1])
    return solved("wrap_gift runs after the charge, is undone before the refund when shipping fails, and a "
                  "retried wrap after a timeout wraps only once")


CHECKS: dict[str, Callable[..., CheckResult]] = {"gift_wrap": check_gift_wrap}
