"""Notebooks 01–03 in a real browser: run them, then use each widget the way a learner does."""

from __future__ import annotations

import re

from tests.browser.lab import LabPage


def test_notebook_01_event_inspector_in_the_browser(lab_page: LabPage) -> None:
    lab_page.open_notebook("01_events_as_facts.ipynb")
    lab_page.run_all_but_last()
    assert lab_page.errors() == []
    inspector = lab_page.widget("course-event-inspector")
    inspector.locator(".course-event-picker select").select_option(label="3. StockReserved")
    shown = lab_page.wait_for_text(inspector.locator(".course-event-json"), '"type": "StockReserved"')
    assert '"sku": "mug"' in shown
    lab_page.wait_for_text(inspector.locator(".course-event-metadata"), "2. OrderCreated")
    lab_page.click_button("try to edit it", within=inspector)
    log = lab_page.wait_for_text(inspector.locator(".widget-output"), "refused: StockReserved.order_id")
    assert "frozen_instance" in log
    assert lab_page.screenshot("01_event-inspector", show=inspector).stat().st_size > 10_000
    lab_page.run_last_cell()
    assert lab_page.errors() == []


def test_notebook_02_store_view_in_the_browser(lab_page: LabPage) -> None:
    lab_page.open_notebook("02_event_store.ipynb")
    lab_page.run_all_but_last()
    assert lab_page.errors() == []
    view = lab_page.widget("course-store-view")
    log = view.locator(".course-store-log")
    assert "order-o-2" in lab_page.text(log)
    view.locator(".course-store-stream input").fill("order-browser")  # the learner types a new stream name
    view.locator(".course-store-stream input").press("Enter")
    lab_page.click_button("append an item", within=view)
    streams = lab_page.wait_for_text(view.locator(".course-store-streams"), "order-browser")
    assert re.search(r"order-browser\s+1", streams), streams
    lab_page.wait_for_text(log, re.compile(r"15\s+order-browser\s+v1\s+OrderItemAdded"))  # its own update
    assert lab_page.screenshot("02_store-view", show=view).stat().st_size > 10_000
    lab_page.run_last_cell()
    assert lab_page.errors() == []


def test_notebook_03_time_travel_in_the_browser(lab_page: LabPage) -> None:
    lab_page.open_notebook("03_aggregates_and_snapshots.ipynb")
    lab_page.run_all_but_last()
    assert lab_page.errors() == []
    travel = lab_page.widget("course-time-travel")
    lab_page.set_slider(travel.locator(".course-time-slider"), 1)
    lab_page.wait_for_text(travel.locator(".course-time-event"), "v1: OrderCreated")
    lab_page.wait_for_text(travel.locator(".course-time-state"), "draft")  # the state view updates after the label
    lab_page.set_slider(travel.locator(".course-time-slider"), 7)
    lab_page.wait_for_text(travel.locator(".course-time-event"), "v7: OrderPaid")
    lab_page.wait_for_text(travel.locator(".course-time-state"), '"paid"')
    assert lab_page.screenshot("03_time-travel", show=travel).stat().st_size > 10_000
    lab_page.run_last_cell()
    assert lab_page.errors() == []
