"""Notebooks 01–03's widgets, driven from code without a browser: event inspector, store view, time travel."""

from __future__ import annotations

import json

import pytest

from course_lib.clock import FixedStepClock, SequentialIds
from course_lib.eventstore import InMemoryEventStore
from course_lib.messages import envelope
from course_lib.shop.events import OrderCreated, OrderItemAdded, StockReserved
from course_lib.shop.order import Order
from course_lib.widgets.event_inspector import EventInspector
from course_lib.widgets.store_view import StoreView
from course_lib.widgets.time_travel import TimeTravel


def chain() -> list:
    clock, ids = FixedStepClock(), SequentialIds()
    first = envelope(OrderCreated(order_id="o1", customer_id="c1"), clock=clock, ids=ids, stream_id="order-o1")
    second = first.caused(StockReserved(order_id="o1", sku="mug", quantity=1), clock=clock, ids=ids)
    return [first, second]


def test_inspector_shows_json_and_metadata_of_the_picked_event() -> None:
    inspector = EventInspector(chain())
    assert json.loads(inspector.json_text)["metadata"]["type"] == "OrderCreated"
    assert dict(inspector.metadata_rows())["caused by"].startswith("nothing")
    inspector.select(1)
    assert inspector.index == 1 and inspector.selected.type == "StockReserved"
    assert "StockReserved" in inspector.json_view.value
    rows = dict(inspector.metadata_rows())
    assert rows["caused by"] == "1. OrderCreated" and rows["causation_id"] == "…0001"
    assert rows["correlation_id"] == "…0001"  # the conversation started with event 1
    assert inspector.label(0) == "1. OrderCreated (order-o1)"  # no version until stored


def test_inspector_edit_button_is_refused_and_logged() -> None:
    inspector = EventInspector(chain())
    inspector.edit.click()
    assert inspector.edit_attempts == ["refused: OrderCreated.order_id cannot change (frozen_instance)"]
    assert inspector.selected.message.order_id == "o1"
    assert "refused" in inspector.log.outputs[0]["text"]
    with pytest.raises(ValueError, match="at least one"):
        EventInspector([])


def test_store_view_catches_up_and_appends() -> None:
    store = InMemoryEventStore()
    store.append("order-a", [OrderCreated(order_id="a", customer_id="c")])
    view = StoreView(store, tail=2)
    assert view.position == 1 and view.versions == {"order-a": 1}
    store.append("order-b", [OrderCreated(order_id="b", customer_id="c")])
    store.append("order-a", [OrderItemAdded(order_id="a", sku="mug", quantity=1, unit_price_cents=1)])
    assert view.refresh() == 2 and view.refresh() == 0
    assert view.versions == {"order-a": 2, "order-b": 1}
    view.stream_picker.value = "order-b"
    view.append_button.click()
    assert store.stream_version("order-b") == 2 and view.position == 4
    assert [r[0] for r in view.rows()] == [3, 4]  # only the tail is shown
    assert "data-position='4'" in view.log_view.value
    assert "appended order-b v2 at position 4" in "".join(o["text"] for o in view.output.outputs)


def test_time_travel_shows_each_version_and_the_event_that_made_it() -> None:
    order = Order.create("o1", "c1")
    order.add_item("mug", 2, 1250)
    order.submit()
    order.pay(2500, "p1")
    travel = TimeTravel(Order, "o1", order.pending_events)
    assert travel.version == 4 and travel.state["status"] == "paid"
    assert travel.go_to(1)["status"] == "draft" and travel.state["items"] == {}
    assert type(travel.event).__name__ == "OrderCreated"
    travel.go_to(2)
    assert travel.changed_fields() == ["items"] and "data-version='2'" in travel.event_view.value
    travel.slider.value = 3  # what a drag does
    assert travel.state["status"] == "submitted" and "data-status='submitted'" in travel.state_view.value
    with pytest.raises(ValueError, match="between 1 and 4"):
        travel.go_to(5)
