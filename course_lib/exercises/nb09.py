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

from course_lib.exercises import Check, CheckResult, Hints, exercise, not_attempted, solved, wrong
from course_lib.sagas import Orchestrator, SagaDefinition, SagaState, SQLiteSagaLog
from course_lib.shop.saga import order_data, order_saga
from course_lib.shop.services import FaultKind, GiftWrapService, Shop

HINTS = Hints(
    concept="A saga step is an action plus the compensation that undoes it. When a later step fails, the "
            "compensations of the completed steps run in reverse order. A call whose reply was lost is retried, "
            "and only an idempotency key that is the same on every try lets the service recognise the retry.",
    approach="Make a step named wrap_gift whose action asks the gift-wrap service to wrap the order and whose "
             "compensation asks it to unwrap, each passing the key the step's context gives you (never a fresh "
             "one). Return the saga with that step placed directly after the payment step.",
    skeleton="def add_gift_wrap(saga, giftwrap):\n    def wrap(ctx):\n"
             "        return {\"wrapping_id\": giftwrap.wrap(..., key=...)}\n\n"
             "    def unwrap(ctx):\n        ...\n\n"
             "    return saga.insert_after(..., Step(\"wrap_gift\", ..., ...))",
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
        log = SQLiteSagaLog(Path(tmp) / "saga.db")
        try:
            state = Orchestrator(saga, log, sleep=lambda _: None).start("ex-1", order_data("o-1"))
        finally:
            log.close()
    return state, shop, giftwrap


@exercise("nb09.gift_wrap", title="a saga step with its compensation and an idempotency key", level="★★",
          minutes=15, hints=HINTS)
def check_gift_wrap(add_gift_wrap: Any) -> CheckResult:
    """Run the learner's saga: happy, failing after the wrap, and with a timed-out wrap call."""
    if add_gift_wrap is None:
        return not_attempted("write add_gift_wrap(saga, giftwrap) returning the saga with a wrap_gift step")
    if not callable(add_gift_wrap):
        return wrong(f"add_gift_wrap must be a function, got {type(add_gift_wrap).__name__}")
    state, _shop, giftwrap = _run(add_gift_wrap, None)
    expected_order = ["reserve_inventory", "charge_payment", "wrap_gift", "create_shipment", "send_notification"]
    if state.completed != expected_order:
        return wrong(f"the saga ran {state.completed}; expected {expected_order}")
    if giftwrap.wrapped != ["o-1"]:
        return wrong(f"on the happy path the gift was wrapped {len(giftwrap.wrapped)} times, expected once")
    state, _shop, giftwrap = _run(add_gift_wrap, ("shipping.create_shipment", "rejected"))
    if giftwrap.unwrapped != ["o-1"]:
        return wrong("when shipping fails after the wrap, the wrap must be undone exactly once "
                     f"(unwrapped: {giftwrap.unwrapped})")
    if state.compensated != ["wrap_gift", "charge_payment", "reserve_inventory"]:
        return wrong(f"compensations ran as {state.compensated}; they must run in reverse order of the steps")
    state, _shop, giftwrap = _run(add_gift_wrap, ("giftwrap.wrap", "timeout"))
    if len(giftwrap.wrapped) != 1:
        return wrong(f"a wrap call whose reply timed out was retried and wrapped {len(giftwrap.wrapped)} times: "
                     "the retry was not recognised as the same request")
    return solved("wrap_gift runs after the charge, is undone before the refund when shipping fails, and a "
                  "retried wrap after a timeout wraps only once")


CHECKS: dict[str, Check] = {"gift_wrap": check_gift_wrap}
