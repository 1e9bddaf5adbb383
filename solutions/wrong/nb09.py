"""Wrong answers to notebook 09's exercise."""

from __future__ import annotations

import uuid
from typing import Any

from course_lib.exercises.nb09 import StepFailed
from course_lib.sagas import SagaDefinition, Step, StepContext
from course_lib.shop.services import GiftWrapService
from solutions.wrong import Wrong


def _wrap_step(giftwrap: GiftWrapService, *, fresh_key: bool = False, compensate: bool = True,
               undo_with_wrap: bool = False) -> Step:
    def key(ctx: StepContext) -> str:
        return uuid.uuid4().hex if fresh_key else ctx.idempotency_key

    def wrap(ctx: StepContext) -> dict[str, Any]:
        return {"wrapping_id": giftwrap.wrap(ctx.data["order_id"], key=key(ctx))}

    def unwrap(ctx: StepContext) -> None:
        if undo_with_wrap:
            giftwrap.wrap(ctx.data["order_id"], key=key(ctx) + "-undo")
        else:
            giftwrap.unwrap(ctx.data["order_id"], key=key(ctx))

    return Step("wrap_gift", wrap, unwrap if compensate else None)


def fresh_key_per_try(saga: SagaDefinition, giftwrap: GiftWrapService) -> SagaDefinition:
    return saga.insert_after("charge_payment", _wrap_step(giftwrap, fresh_key=True))


def no_compensation(saga: SagaDefinition, giftwrap: GiftWrapService) -> SagaDefinition:
    return saga.insert_after("charge_payment", _wrap_step(giftwrap, compensate=False))


def compensation_wraps_again(saga: SagaDefinition, giftwrap: GiftWrapService) -> SagaDefinition:
    return saga.insert_after("charge_payment", _wrap_step(giftwrap, undo_with_wrap=True))


def before_the_payment(saga: SagaDefinition, giftwrap: GiftWrapService) -> SagaDefinition:
    return saga.insert_after("reserve_inventory", _wrap_step(giftwrap))


def after_the_shipment(saga: SagaDefinition, giftwrap: GiftWrapService) -> SagaDefinition:
    return saga.insert_after("create_shipment", _wrap_step(giftwrap))


def returns_the_step(saga: SagaDefinition, giftwrap: GiftWrapService) -> Any:
    return _wrap_step(giftwrap)


def run_saga(steps, data):  # type: ignore[no-untyped-def]
    """Run (name, action, compensation) steps in order; if one fails, undo the completed ones. Returns the names
    of the compensated steps, in the order their compensations ran (empty when the saga completed)."""
    done: list[tuple[str, Any]] = []
    for name, action, compensation in steps:
        try:
            action(data)
        except StepFailed:
            compensated = []
            for done_name, done_compensation in done:
                if done_compensation is not None:
                    done_compensation(data)
                    compensated.append(done_name)
            return compensated
        done.append((name, compensation))
    return []


def _run_saga(steps: list[tuple[str, Any, Any]], data: dict[str, Any], *, remember_first: bool = False,
              newest_first: bool = True, only_one: bool = False, report_forward: bool = False) -> list[str]:
    """The runner with each decision a learner can get wrong made explicit (right by default)."""
    done: list[tuple[str, Any]] = []
    for name, action, compensation in steps:
        if remember_first:
            done.append((name, compensation))  # remembered before it ran
        try:
            action(data)
        except StepFailed:
            compensated = []
            for done_name, done_compensation in (list(reversed(done)) if newest_first else done):
                if done_compensation is not None:
                    done_compensation(data)
                    compensated.append(done_name)
                    if only_one:
                        break
            return [n for n, c in done if c is not None] if report_forward else compensated
        if not remember_first:
            done.append((name, compensation))
    return []


def undoes_the_failed_step_too(steps: list[tuple[str, Any, Any]], data: dict[str, Any]) -> list[str]:
    return _run_saga(steps, data, remember_first=True)


def undoes_only_the_last_step(steps: list[tuple[str, Any, Any]], data: dict[str, Any]) -> list[str]:
    return _run_saga(steps, data, only_one=True)


def carries_on_after_the_failure(steps: list[tuple[str, Any, Any]], data: dict[str, Any]) -> list[str]:
    done: list[tuple[str, Any]] = []
    failed = False
    for name, action, compensation in steps:
        try:
            action(data)
            done.append((name, compensation))
        except StepFailed:
            failed = True  # compensate at the end, after the remaining steps
    compensated = []
    if failed:
        for done_name, done_compensation in reversed(done):
            if done_compensation is not None:
                done_compensation(data)
                compensated.append(done_name)
    return compensated


def reverses_the_whole_saga(steps: list[tuple[str, Any, Any]], data: dict[str, Any]) -> list[str]:
    for _name, action, _compensation in steps:
        try:
            action(data)
        except StepFailed:
            compensated = []
            for step_name, _action, step_compensation in reversed(steps):  # every step, run or not
                if step_compensation is not None:
                    step_compensation(data)
                    compensated.append(step_name)
            return compensated
    return []


def returns_the_forward_names(steps: list[tuple[str, Any, Any]], data: dict[str, Any]) -> list[str]:
    return _run_saga(steps, data, report_forward=True)


Log = list[tuple[str, str | None]]
Action = tuple[str, str | None]


def _read(log: Log, *, started_is_done: bool = False, attempt_failed_is_failure: bool = False,
          compensation_started_is_done: bool = False) -> tuple[list[str], set[str], bool, bool]:
    """(succeeded in order, compensated, failed, ended), read the way one mistaken reader reads the log."""
    succeeded: list[str] = []
    compensated: set[str] = set()
    failed = ended = False
    for kind, step in log:
        ended = ended or kind in ("saga_completed", "saga_compensated")
        done = kind == "step_succeeded" or (started_is_done and kind == "step_started")
        if done and step is not None and step not in succeeded:
            succeeded.append(step)
        failed = failed or kind == "step_failed" or (attempt_failed_is_failure and kind == "attempt_failed")
        if step is not None and (kind == "compensation_succeeded"
                                 or (compensation_started_is_done and kind == "compensation_started")):
            compensated.add(step)
    return succeeded, compensated, failed, ended


def _decide(steps: list[str], succeeded: list[str], compensated: set[str], failed: bool, ended: bool, *,
            oldest_first: bool = False, ignore_failure: bool = False) -> Action:
    if ended:
        return ("done", None)
    if failed and not ignore_failure:
        for step in (succeeded if oldest_first else list(reversed(succeeded))):
            if step not in compensated:
                return ("compensate", step)
        return ("finish", None)
    for step in steps:
        if step not in succeeded:
            return ("run", step)
    return ("finish", None)


def started_counts_as_done(steps: list[str], log: Log) -> Action:
    return _decide(steps, *_read(log, started_is_done=True))


def a_retried_attempt_turns_back(steps: list[str], log: Log) -> Action:
    return _decide(steps, *_read(log, attempt_failed_is_failure=True))


def compensates_oldest_first(steps: list[str], log: Log) -> Action:
    return _decide(steps, *_read(log), oldest_first=True)


def keeps_going_after_a_failure(steps: list[str], log: Log) -> Action:
    return _decide(steps, *_read(log), ignore_failure=True)


def a_started_compensation_counts_as_done(steps: list[str], log: Log) -> Action:
    return _decide(steps, *_read(log, compensation_started_is_done=True))


def resumes_after_the_last_entry(steps: list[str], log: Log) -> Action:
    last_step = next((step for _kind, step in reversed(log) if step is not None), None)
    if last_step is None:
        return ("run", steps[0])
    index = steps.index(last_step) + 1
    return ("run", steps[index]) if index < len(steps) else ("finish", None)


WRONG_RESUME = [
    Wrong("a started step counts as done", started_counts_as_done),
    Wrong("a retried attempt turns the saga back", a_retried_attempt_turns_back),
    Wrong("compensations resume with the oldest step", compensates_oldest_first),
    Wrong("a failed step does not turn the saga around", keeps_going_after_a_failure),
    Wrong("a started compensation counts as done", a_started_compensation_counts_as_done),
    Wrong("the step after the last one in the log", resumes_after_the_last_entry),
]


WRONG = {"next_action": WRONG_RESUME, "compensation_order": [
    Wrong("as given: compensations in forward order", run_saga),
    Wrong("the failed step is compensated too", undoes_the_failed_step_too),
    Wrong("only the latest step is undone", undoes_only_the_last_step),
    Wrong("the remaining steps still run after the failure", carries_on_after_the_failure),
    Wrong("every step of the saga is undone, run or not", reverses_the_whole_saga),
    Wrong("undone in reverse, reported in forward order", returns_the_forward_names),
], "gift_wrap": [
    Wrong("a fresh idempotency key on every try", fresh_key_per_try),
    Wrong("no compensation", no_compensation),
    Wrong("the compensation wraps again", compensation_wraps_again),
    Wrong("the step before the payment", before_the_payment),
    Wrong("the step after the shipment", after_the_shipment),
    Wrong("returns the step, not the saga", returns_the_step),
]}

GIVEAWAYS = {"compensation_order": ("reversed(done)",),
             "next_action": ("for step in reversed(succeeded):",),
             "gift_wrap": ("key=ctx.idempotency_key", 'insert_after("charge_payment"', "insert_after('charge_payment'")}
