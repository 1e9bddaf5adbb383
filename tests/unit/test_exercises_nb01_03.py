"""Notebooks 01–03's checks: reference solutions pass, placeholders are "not solved yet", wrong answers fail."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
from pydantic import ConfigDict, Field, create_model, field_validator

from course_lib.eventstore import ANY, ConcurrencyError
from course_lib.exercises import nb01, nb02, nb03
from course_lib.messages import Command, Event
from solutions import nb01 as solution01
from solutions import nb02 as solution02
from solutions import nb03 as solution03

PAIRS: list[tuple[ModuleType, ModuleType]] = [(nb01, solution01), (nb02, solution02), (nb03, solution03)]


@pytest.mark.parametrize(("checks", "solution"), PAIRS, ids=["nb01", "nb02", "nb03"])
def test_every_check_has_a_passing_reference_solution(checks: ModuleType, solution: ModuleType) -> None:
    assert set(solution.ANSWERS) == set(checks.CHECKS)
    for name, check in checks.CHECKS.items():
        result = check(solution.ANSWERS[name])
        assert result.solved, str(result)


@pytest.mark.parametrize("check", [c for m, _ in PAIRS for c in m.CHECKS.values()], ids=lambda c: c.__name__)
def test_the_placeholder_is_not_solved_yet(check: Callable[..., Any]) -> None:
    result = check(None)
    assert not result.solved and not result.attempted and str(result).startswith("… Not solved yet")
    assert result.hints == [check.all_hints[0]]  # only the concept until more are asked for


class OrderAddressChanged(Event):
    """One address field, refused when blank by a validator rather than a constraint."""

    order_id: str
    address: str

    @field_validator("address")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the address must not be blank")
        return value


class ChangeOrderAddress(Event):
    order_id: str
    address: str


OrderAddressChangedNoOrder = create_model("OrderAddressChanged", __base__=Event, address=(str, ...))


class OrderDeliveryNoteAdded(Event):
    order_id: str
    note: str = Field(min_length=1)


class _Mutable(Event):
    model_config = ConfigDict(frozen=False)


OrderAddressChangedMutable = create_model("OrderAddressChanged", __base__=_Mutable, order_id=(str, ...),
                                          address=(str, ...))


class OrderAddressUpdated(Command):
    order_id: str
    address: str


def test_nb01_a_simpler_correct_design_passes() -> None:
    assert nb01.check_event_design(OrderAddressChanged).solved


@pytest.mark.parametrize(("answer", "says"), [
    (ChangeOrderAddress, "past-tense"),
    (OrderAddressChangedNoOrder, "no order_id"),
    (OrderDeliveryNoteAdded, "none holds the new address"),
    (OrderAddressChangedMutable, "can be edited"),
    (OrderAddressUpdated, "not an Event"),
    (OrderAddressChanged(order_id="o", address="a"), "class itself"),
])
def test_nb01_wrong_designs_are_explained(answer: Any, says: str) -> None:
    result = nb01.check_event_design(answer)
    assert not result.solved and result.attempted and says in result.message, str(result)


def test_nb02_a_writer_that_never_retries_fails() -> None:
    def once(store: Any, stream_id: str, make_event: Any, retries: int = 3) -> Any:
        version = store.stream_version(stream_id)
        return store.append(stream_id, [make_event(version)], version)

    result = nb02.check_save_with_retry(once)
    assert not result.solved and "gave up too early" in result.message


def test_nb02_a_writer_that_uses_any_fails() -> None:
    def blind(store: Any, stream_id: str, make_event: Any, retries: int = 3) -> Any:
        return store.append(stream_id, [make_event(store.stream_version(stream_id))], ANY)

    result = nb02.check_save_with_retry(blind)
    assert not result.solved and "ANY" in result.message


def test_nb02_a_writer_that_retries_forever_fails() -> None:
    def stubborn(store: Any, stream_id: str, make_event: Any, retries: int = 3) -> Any:
        while True:
            version = store.stream_version(stream_id)
            try:
                return store.append(stream_id, [make_event(version)], version)
            except ConcurrencyError:
                continue

    result = nb02.check_save_with_retry(stubborn)
    assert not result.solved and "never re-raised" in result.message


def test_nb03_wrong_folds_are_explained() -> None:
    def ignores_removal(events: list[Any]) -> dict[str, int]:
        out: dict[str, int] = {}
        for e in events:
            if type(e).__name__ == "OrderItemAdded":
                out[e.sku] = out.get(e.sku, 0) + e.quantity
        return out

    def last_wins(events: list[Any]) -> dict[str, int]:
        return {e.sku: e.quantity for e in events if type(e).__name__ == "OrderItemAdded"}

    result = nb03.check_cart(ignores_removal)
    assert "OrderItemRemoved" in result.message and "expected" in result.message
    result = nb03.check_cart(last_wins)
    assert not result.solved and "history 3" in result.message
    assert not nb03.check_cart(42).solved
    crashing = nb03.check_cart(lambda events: events[99])
    assert not crashing.solved and "IndexError" in crashing.message
