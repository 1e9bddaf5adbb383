"""Notebook 09's check accepts the reference solution and rejects wrong answers with a reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from course_lib.exercises.nb09 import CHECKS, check_gift_wrap
from course_lib.sagas import SagaDefinition, Step, StepContext
from course_lib.shop.services import GiftWrapService
from solutions.nb09 import ANSWERS


def test_every_check_accepts_the_reference_solution() -> None:
    assert set(CHECKS) == set(ANSWERS)
    for name, check in CHECKS.items():
        result = check(ANSWERS[name])
        assert result.solved, result


def test_placeholder_is_not_attempted() -> None:
    result = check_gift_wrap(None)
    assert not result.solved and not result.attempted
    assert "Not solved yet" in str(result)


def test_step_without_compensation_is_wrong() -> None:
    def no_undo(saga: SagaDefinition, giftwrap: GiftWrapService) -> SagaDefinition:
        step = Step("wrap_gift", lambda ctx: giftwrap.wrap(ctx.data["order_id"], key=ctx.idempotency_key) and None)
        return saga.insert_after("charge_payment", step)

    result = check_gift_wrap(no_undo)
    assert not result.solved and result.attempted and "undone" in result.message


def test_step_at_the_end_is_wrong() -> None:
    def appended(saga: SagaDefinition, giftwrap: GiftWrapService) -> SagaDefinition:
        return saga.then(Step("wrap_gift", lambda ctx: None))

    result = check_gift_wrap(appended)
    assert not result.solved and "expected" in result.message


def test_fresh_key_per_call_is_caught_by_the_timeout_case() -> None:
    counter = iter(range(1000))

    def fresh_keys(saga: SagaDefinition, giftwrap: GiftWrapService) -> SagaDefinition:
        def wrap(ctx: StepContext) -> None:
            giftwrap.wrap(ctx.data["order_id"], key=f"k{next(counter)}")

        def unwrap(ctx: StepContext) -> None:
            giftwrap.unwrap(ctx.data["order_id"], key=ctx.idempotency_key)

        return saga.insert_after("charge_payment", Step("wrap_gift", wrap, unwrap))

    result = check_gift_wrap(fresh_keys)
    assert not result.solved and "not recognised as the same request" in result.message


def test_code_that_raises_becomes_a_verdict() -> None:
    def broken(saga: Any, giftwrap: Any) -> Any:
        raise KeyError("oops")

    result = check_gift_wrap(broken)
    assert not result.solved and "KeyError" in result.message


def test_the_notebooks_broken_runner_undoes_in_forward_order() -> None:
    """What notebook 09's find-the-bug text says of the runner it hands over: the oldest step is undone first."""
    import nbformat

    from course_lib.exercises.nb09 import run_with_failure

    notebook = nbformat.read(Path(__file__).resolve().parents[2] / "notebooks" / "09_sagas.ipynb", as_version=4)
    (source,) = [c.source for c in notebook.cells if "# Broken on purpose: repair it" in c.source]
    namespace: dict[str, Any] = {}
    exec(source, namespace)
    returned, journal = run_with_failure(namespace["run_saga"])
    undone = [entry for entry in journal if entry.startswith("undo ")]
    assert undone == ["undo reserve_inventory", "undo charge_payment", "undo wrap_gift"]
    assert returned == ["reserve_inventory", "charge_payment", "wrap_gift"]


def test_the_wrong_runners_differ_from_a_right_one_in_one_decision() -> None:
    """The wrong repairs set one option of ``_run_saga``; with none set, it must pass, or they prove nothing."""
    from course_lib.exercises.nb09 import check_compensation_order
    from solutions.wrong.nb09 import _run_saga

    assert check_compensation_order(_run_saga).solved
