"""Notebook 09's exercises: add a gift-wrapping step to the order saga (build), and repair a saga runner whose
compensations run in the wrong order (find the bug).

**Gift wrap** — the learner writes ``add_gift_wrap(saga, giftwrap)`` returning a new definition in which a step named
``wrap_gift`` runs right after ``charge_payment``: its action calls ``giftwrap.wrap(order_id, key=...)``, its
compensation ``giftwrap.unwrap(order_id, key=...)``, both with the context's idempotency key. The check runs the
result three ways: happy path, shipping failing (so the wrap must be undone, before the refund), and a wrap call
whose reply times out (so only the idempotency key prevents wrapping twice).

**Compensation order** — ``run_saga(steps, data)`` runs ``(name, action, compensation)`` steps in order; when an
action raises ``StepFailed`` it runs the compensations of the steps that completed, the latest first, skips steps
without one, and returns the compensated names in the order they ran. The notebook hands over a runner that undoes
in forward order. The check runs sagas that fail in the middle, at the first step and not at all, and reads the
journal of every call.

**Where to resume** — ``next_action(steps, log)`` reads a saga's log (``(kind, step)`` pairs) the way a restarted
orchestrator does and says what comes next: ``("run", step)``, ``("compensate", step)``, ``("finish", None)`` (write
the final entry) or ``("done", None)``. The check crashes the real orchestrator at every crash point of three
sagas (happy, a transient failure that is retried, shipping refused), resumes it from the log, and compares the
learner's answer with what the resumed orchestrator did first.
"""

from __future__ import annotations

import contextlib
import functools
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from course_lib.exercises import Check, CheckResult, Hints, exercise, not_attempted, solved, wrong
from course_lib.sagas import Orchestrator, SagaDefinition, SagaState, SQLiteSagaLog
from course_lib.shop.saga import order_data, order_saga
from course_lib.shop.services import FaultKind, GiftWrapService, Shop, SimulatedCrash

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


class StepFailed(Exception):
    """A saga step's action failed for good (a business refusal, or retries exhausted)."""


COMPENSATION_HINTS = Hints(
    concept="Each saga step may depend on the ones before it: the gift was wrapped after the stock was reserved, "
            "the payment taken before the shipment. Undoing must go the other way — the latest completed step "
            "first — and only completed steps have anything to undo.",
    approach="Look at the order in which the given runner walks its list of completed steps when an action "
             "fails, and at which steps are in that list. Walk it so the newest step is undone first; the step "
             "that failed never completed, and a step without a compensation is skipped.",
    skeleton="except StepFailed:\n    compensated = []\n    for done_name, done_compensation in ...:  # which order?\n"
             "        ...\n    return compensated",
)

Journal = list[str]


def _saga(journal: Journal, fail_at: str | None) -> list[tuple[str, Any, Any]]:
    """The order saga with a receipt (nothing to undo) and gift wrapping; ``fail_at``'s action raises."""

    def act(name: str) -> Any:
        def action(data: dict[str, Any]) -> None:
            journal.append(f"do {name}")
            if name == fail_at:
                raise StepFailed(f"{name} refused order {data['order_id']}")
        return action

    def undo(name: str) -> Any:
        def compensation(data: dict[str, Any]) -> None:
            journal.append(f"undo {name}")
        return compensation

    names = ["reserve_inventory", "charge_payment", "send_receipt", "wrap_gift", "create_shipment",
             "send_notification"]
    return [(name, act(name), None if name in ("send_receipt", "send_notification") else undo(name))
            for name in names]


def run_with_failure(run_saga: Any, fail_at: str | None = "create_shipment") -> tuple[Any, Journal]:
    """Run ``run_saga`` over the shop's saga with ``fail_at`` refusing; what it returned and the journal of calls.

    This is the notebook's demonstration and the check's run.
    """
    journal: Journal = []
    returned = run_saga(_saga(journal, fail_at), {"order_id": "o-1"})
    return returned, journal


UNDONE_AFTER_SHIPPING = ["wrap_gift", "charge_payment", "reserve_inventory"]


@exercise("nb09.compensation_order", title="repair compensations that run in the wrong order", level="★★",
          minutes=10, hints=COMPENSATION_HINTS)
def check_compensation_order(run_saga: Any) -> CheckResult:
    """Run sagas failing at shipping, at the first step and not at all; compare the journals of calls."""
    if run_saga is None:
        return not_attempted("repair run_saga(steps, data), then pass it to the check")
    if not callable(run_saga):
        return wrong(f"run_saga must be a function, got {type(run_saga).__name__}")
    returned, journal = run_with_failure(run_saga)
    did = [entry[3:] for entry in journal if entry.startswith("do ")]
    undone = [entry[5:] for entry in journal if entry.startswith("undo ")]
    if "send_notification" in did:
        return wrong("after create_shipment failed, send_notification still ran: a failed step ends the forward "
                     "path — the saga turns back")
    if "create_shipment" in undone:
        return wrong(f"compensations ran for {undone}: create_shipment failed, so it never happened and has "
                     "nothing to undo")
    if sorted(undone) != sorted(UNDONE_AFTER_SHIPPING):
        return wrong(f"when create_shipment failed, compensations ran for {undone}: every completed step that has "
                     "a compensation must be undone, once")
    if undone != UNDONE_AFTER_SHIPPING:
        return wrong(f"when create_shipment failed, the compensations ran as {undone}: the gift would be unwrapped "
                     "after its stock was released, the refund made after the reservation was gone. Which one "
                     "should have come first?")
    if list(returned or []) != undone:
        return wrong(f"the compensations ran as {undone}, but run_saga returned {returned!r}: return the names in "
                     "the order the compensations ran")
    returned, journal = run_with_failure(run_saga, "reserve_inventory")
    if journal != ["do reserve_inventory"] or list(returned or []) != []:
        return wrong(f"when the very first step failed, the journal was {journal} and run_saga returned "
                     f"{returned!r}: nothing had completed, so nothing is undone")
    returned, journal = run_with_failure(run_saga, None)
    if any(entry.startswith("undo") for entry in journal) or list(returned or []) != []:
        return wrong(f"a saga in which nothing failed ran compensations: {journal}")
    return solved("shipping failed: the gift was unwrapped, then the payment refunded, then the stock released — "
                  "the receipt (nothing to undo) and the failed step skipped; a first-step failure undoes nothing")


Action = tuple[str, str | None]
Log = list[tuple[str, str | None]]

RESUME_HINTS = Hints(
    concept="The log is the saga's memory: a restarted orchestrator knows only what was written before the "
            "crash. A step that was started but has no recorded outcome may or may not have happened, so it runs "
            "again (its idempotency key makes that safe). A failed step turns the saga around; an attempt that "
            "failed and was retried did not.",
    approach="Walk the log once and collect: the steps that succeeded (in order), whether a step failed for good, "
             "the compensations that succeeded, and whether the saga already ended. Going forward, the next step "
             "is the first one without a success. Going backward, it is the most recent success not yet "
             "compensated. When nothing is left either way, the final entry is still to be written.",
    skeleton="def next_action(steps, log):\n    succeeded, compensated, failed = [], set(), False\n"
             "    for kind, step in log:\n        ...\n    if ...:  # the saga has ended\n"
             "        return (\"done\", None)\n    if failed:\n        ...\n    ...",
)


@functools.cache
def _resume_cases() -> list[tuple[str, list[str], Log, Action]]:
    """(what, step names, log at the crash, what the resumed orchestrator did first), from real crashed runs.

    Computed once per process (the runs are deterministic); the check hands out copies.
    """
    faults: list[tuple[str, tuple[str, str, int | None] | None]] = [
        ("the happy path", None),
        ("a payment retried after a transient failure", ("payment.charge", "unavailable", 1)),
        ("shipping refused", ("shipping.create_shipment", "rejected", None)),
    ]
    first_kind: dict[str, str] = {"step_started": "run", "compensation_started": "compensate",
                                  "compensation_succeeded": "compensate", "saga_completed": "finish",
                                  "saga_compensated": "finish"}
    cases: list[tuple[str, list[str], Log, Action]] = []
    for about, fault in faults:
        def shop_for(fault: tuple[str, str, int | None] | None = fault) -> Shop:
            shop = Shop.seeded(0)
            if fault is not None:
                shop.faults.fail(fault[0], fault[1], times=fault[2])  # type: ignore[arg-type]
            return shop

        points: list[str] = []
        full = SQLiteSagaLog(":memory:")
        Orchestrator(order_saga(shop_for()), full, crash_hook=points.append, sleep=lambda _: None).start(
            "s", order_data())
        names = order_saga(shop_for()).step_names
        cases.append((f"{about}, after it ended", names, [(e.kind, e.step) for e in full.entries("s")],
                      ("done", None)))
        full.close()
        for point in points:
            shop = shop_for()

            def die(where: str, point: str = point) -> None:
                if where == point:
                    raise SimulatedCrash(where)

            log = SQLiteSagaLog(":memory:")
            with contextlib.suppress(SimulatedCrash):
                Orchestrator(order_saga(shop), log, crash_hook=die, sleep=lambda _: None).start("s", order_data())
            before = log.entries("s")
            Orchestrator(order_saga(shop), log, sleep=lambda _: None).resume("s")
            first = log.entries("s")[len(before)]
            cases.append((f"{about}, crashed at {point!r}", names, [(e.kind, e.step) for e in before],
                          (first_kind[first.kind], first.step if first_kind[first.kind] != "finish" else None)))
            log.close()
    return cases


@exercise("nb09.next_action", title="where a restarted orchestrator resumes", level="★★★", minutes=20,
          hints=RESUME_HINTS)
def check_next_action(next_action: Any) -> CheckResult:
    """Compare the learner's decision with the resumed orchestrator's, at every crash point of three sagas."""
    if next_action is None:
        return not_attempted("write next_action(steps, log) and pass it to the check")
    if not callable(next_action):
        return wrong(f"next_action must be a function, got {type(next_action).__name__}")
    cases = _resume_cases()
    for about, steps, log, expected in cases:  # fresh lists each call: the learner may change them
        got = next_action(list(steps), list(log))
        try:
            got = (str(got[0]), got[1])
        except (TypeError, IndexError):
            return wrong(f"next_action returned {got!r}: return a pair such as (\"run\", \"charge_payment\")")
        if got != expected:
            shown = ", ".join(f"{kind}{' ' + step if step else ''}" for kind, step in log[-4:])
            return wrong(f"{about}: the log ends with [{shown}]; you said {got}, but the restarted orchestrator "
                         f"{_did(expected)}")
    return solved(f"right at all {len(cases)} crash points: an unfinished step runs again, a retried attempt does "
                  "not turn the saga around, compensations resume with the newest completed step")


def _did(expected: Action) -> str:
    kind, step = expected
    return {"run": f"ran {step}", "compensate": f"compensated {step}", "finish": "wrote the saga's final entry",
            "done": "did nothing: the saga had ended"}[kind]


FIND_THE_BUG = ("check_compensation_order",)
"""The checks whose exercise hands the learner a broken component to repair."""

CHECKS: dict[str, Check] = {"gift_wrap": check_gift_wrap, "next_action": check_next_action,
                           "compensation_order": check_compensation_order}
