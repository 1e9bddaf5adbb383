"""Notebook 09's playground widget, driven from code (no browser)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from course_lib.widgets.saga_playground import NO_FAILURE, SagaPlayground


@pytest.fixture
def playground() -> Iterator[SagaPlayground]:
    p = SagaPlayground()
    yield p
    p.close()


def test_declined_card_lights_up_failure_and_compensation(playground: SagaPlayground) -> None:
    run = playground.run("charge_payment", "declined")
    assert run.state.status == "compensated"
    assert run.state.compensated == ["reserve_inventory"]
    assert "class S2 failed" in playground.mermaid() and "class C1 compensated" in playground.mermaid()
    assert "compensated" in playground.status.value
    assert playground.diagram.outputs[0]["data"]["text/vnd.mermaid"] == playground.mermaid()
    assert "run 1: declined at charge_payment" in playground.log.outputs[0]["text"]


def test_crash_is_resumed_from_the_log(playground: SagaPlayground) -> None:
    run = playground.run("create_shipment", "crash")
    assert run.crashed and run.state.status == "completed"
    assert run.shop.payment.charges == [("o-1", 2500)]


def test_failing_compensations_need_attention(playground: SagaPlayground) -> None:
    run = playground.run("create_shipment", "rejected", undo_fails=True)
    assert run.state.status == "needs_attention"
    assert "class C2 attention" in playground.mermaid()


def test_button_runs_with_the_pickers_values(playground: SagaPlayground) -> None:
    playground.step_picker.value = NO_FAILURE
    playground.button.click()
    assert playground.last is not None and playground.last.state.status == "completed"
    assert len(playground.runs) == 1


def test_bad_choices_are_clear_errors(playground: SagaPlayground) -> None:
    with pytest.raises(ValueError, match="step must be one of"):
        playground.run("pay", "declined")
    with pytest.raises(ValueError, match="fault must be one of"):
        playground.run("charge_payment", "boom")
