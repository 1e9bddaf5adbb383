"""Notebook 11's upcaster view, driven without a browser: picking a stored event shows each stage."""

from __future__ import annotations

from typing import ClassVar

import pytest

from course_lib.messages import Event, RawEvent, Registry
from course_lib.versioning import StoredRow, add_field, rename_field
from course_lib.widgets.upcaster_view import UpcasterView


class OrderItemAdded(Event):
    schema_version: ClassVar[int] = 3
    order_id: str
    sku: str
    quantity: int
    currency: str


class OrderPlaced(Event):
    schema_version: ClassVar[int] = 2
    order_id: str


class AddressChosen(Event):
    order_id: str
    address: str


def _registry() -> Registry:
    reg = Registry()
    for cls in (OrderItemAdded, OrderPlaced, AddressChosen):
        reg.add(cls)
    reg.add_upcaster("OrderItemAdded", 1, add_field("currency", "EUR", to_version=2))
    reg.add_upcaster("OrderItemAdded", 2, rename_field("qty", "quantity", to_version=3))
    reg.add_upcaster("OrderPlaced", 1, lambda raw: [
        RawEvent("OrderPlaced", 2, {"order_id": raw.data["order_id"]}),
        RawEvent("AddressChosen", 1, {"order_id": raw.data["order_id"], "address": raw.data["address"]})])
    return reg


ROWS = [
    StoredRow(1, "order-1", 1, RawEvent("OrderPlaced", 1, {"order_id": "1", "address": "Elm St"})),
    StoredRow(2, "order-1", 2, RawEvent("OrderItemAdded", 1, {"order_id": "1", "sku": "mug", "qty": 2})),
    StoredRow(3, "order-1", 3, RawEvent("OrderItemAdded", 3, {"order_id": "1", "sku": "pen", "quantity": 1,
                                                         "currency": "USD"})),
    StoredRow(4, "order-1", 4, RawEvent("OrderItemAdded", 1, {"order_id": "1", "sku": "cap", "quantity": 1,
                                                         "currency": "EUR"})),
]


def test_a_v1_event_passes_through_both_upcasters() -> None:
    view = UpcasterView(ROWS, _registry())
    assert view.select(1) == ["OrderItemAdded v1", "OrderItemAdded v2 (+currency)",
                              "OrderItemAdded v3 (qty→quantity)"]
    assert view.highlighted() == [[set()], [{"currency"}], [{"quantity"}]]
    assert view.final() == [RawEvent("OrderItemAdded", 3, {"order_id": "1", "sku": "mug", "currency": "EUR",
                                                           "quantity": 2})]
    assert view.result() == "loads as OrderItemAdded"
    html = view.stages_view.value
    assert "data-stages='3'" in html and "data-result='ok'" in html
    assert "background:#dafbe1' data-field='currency'" in html  # the added field is highlighted
    assert "line-through'>  &quot;qty&quot;" not in html  # a rename is not shown as a removal


def test_a_split_shows_both_new_events_and_the_dropdown_drives_the_view() -> None:
    view = UpcasterView(ROWS, _registry())
    view.output.outputs = ()
    view.picker.value = 2  # what a click in the dropdown does
    assert view.selected.position == 3 and view.summary() == ["OrderItemAdded v3"]
    view.picker.value = 0
    assert view.summary() == ["OrderPlaced v1", "OrderPlaced v2 (-address) + AddressChosen v1 (new type)"]
    stages = view.stages
    assert [[s.event.type for s in stage] for stage in stages] == [["OrderPlaced"], ["OrderPlaced", "AddressChosen"]]
    assert stages[1][0].changes.removed == ("address",)
    assert stages[1][1].changes.type_changed
    assert view.result() == "loads as OrderPlaced + AddressChosen"
    logged = "".join(o["text"] for o in view.output.outputs)
    assert logged.count("#1 order-1 v1") == 1 and logged.count("#3 order-1 v3") == 1  # one line per pick


def test_a_broken_chain_is_shown_as_an_error_not_raised() -> None:
    reg = Registry()
    reg.add(OrderItemAdded)  # v3 class, but no upcasters registered
    view = UpcasterView(ROWS, reg)
    view.select("#2")
    assert view.summary() == ["OrderItemAdded v1"]
    assert view.result().startswith("does not load: OrderItemAdded")
    assert "data-result='error'" in view.stages_view.value
    view.select("#4")  # the right fields, but stored as v1 and no upcaster says how to read v1
    assert "register the missing upcaster" in view.result()


def test_bad_selection_and_empty_store_are_clear_errors() -> None:
    view = UpcasterView(ROWS, _registry())
    with pytest.raises(IndexError, match="pick 0 … 3"):
        view.select(9)
    with pytest.raises(KeyError, match="no stored event labelled"):
        view.select("#99")
    with pytest.raises(ValueError, match="at least one stored event"):
        UpcasterView([], _registry())
