"""Reference solutions for notebook 09 (sagas). Keys match ``course_lib.exercises.nb09.CHECKS``."""

from __future__ import annotations

from typing import Any

from course_lib.exercises.nb09 import StepFailed
from course_lib.sagas import SagaDefinition, Step, StepContext
from course_lib.shop.services import GiftWrapService


def add_gift_wrap(saga: SagaDefinition, giftwrap: GiftWrapService) -> SagaDefinition:
    """The order saga with a ``wrap_gift`` step (and its compensation) right after the payment."""

    def wrap(ctx: StepContext) -> dict[str, Any]:
        return {"wrapping_id": giftwrap.wrap(ctx.data["order_id"], key=ctx.idempotency_key)}

    def unwrap(ctx: StepContext) -> None:
        giftwrap.unwrap(ctx.data["order_id"], key=ctx.idempotency_key)

    return saga.insert_after("charge_payment", Step("wrap_gift", wrap, unwrap, compensation_name="unwrap_gift"))


def run_saga(steps: list[tuple[str, Any, Any]], data: dict[str, Any]) -> list[str]:
    """Run the steps in order; when one fails, undo the completed ones newest first. The compensated names."""
    done: list[tuple[str, Any]] = []
    for name, action, compensation in steps:
        try:
            action(data)
        except StepFailed:
            compensated = []
            for done_name, done_compensation in reversed(done):
                if done_compensation is not None:
                    done_compensation(data)
                    compensated.append(done_name)
            return compensated
        done.append((name, compensation))
    return []


def next_action(steps: list[str], log: list[tuple[str, str | None]]) -> tuple[str, str | None]:
    """What a restarted orchestrator does next, from the saga's log alone."""
    succeeded: list[str] = []
    compensated: set[str] = set()
    failed = False
    for kind, step in log:
        if kind in ("saga_completed", "saga_compensated"):
            return ("done", None)
        if kind == "step_succeeded" and step is not None:
            succeeded.append(step)
        elif kind == "step_failed":
            failed = True
        elif kind == "compensation_succeeded" and step is not None:
            compensated.add(step)
    if failed:
        for step in reversed(succeeded):
            if step not in compensated:
                return ("compensate", step)
        return ("finish", None)
    for step in steps:
        if step not in succeeded:
            return ("run", step)  # started but not recorded as done: run it again, with the same key
    return ("finish", None)


ANSWERS: dict[str, Any] = {"gift_wrap": add_gift_wrap, "next_action": next_action, "compensation_order": run_saga}
