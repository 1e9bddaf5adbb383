"""Notebooks 01–03 in a real browser: run them, then use each widget the way a learner does."""

from __future__ import annotations

import re

from tests.browser.lab import LabPage

_ALL_BUT_LAST_RAN = """() => {
    const prompts = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')].slice(0, -1);
    return prompts.length > 0 && prompts.every(p => /^\\[\\d+\\]:$/.test(p.textContent.trim()));
}"""


def open_in_fresh_workspace(lab_page: LabPage, name: str, timeout_s: float = 60) -> None:
    """Open one notebook in a workspace of its own, so notebooks left open by earlier tests are not restored."""
    lab = lab_page.lab
    workspace = name.split("_")[0]
    lab_page.page.goto(f"{lab.url}/lab/workspaces/nb{workspace}/tree/{name}?reset&token={lab.token}",
                       timeout=timeout_s * 1000)
    lab_page.page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").first.wait_for(timeout=timeout_s * 1000)
    lab_page.wait_for_idle_kernel(timeout_s)


def run_all_but_the_cleanup_cell(lab_page: LabPage, timeout_s: float = 120) -> None:
    """Run everything above the last code cell (it closes the store and deletes its files)."""
    page = lab_page.page
    page.locator(".jp-Notebook .jp-CodeCell").last.locator(".jp-InputPrompt").click()
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Above Selected Cell$")).click()
    page.wait_for_function(_ALL_BUT_LAST_RAN, timeout=timeout_s * 1000, polling=250)
    lab_page.wait_for_idle_kernel(timeout_s)


def run_the_cleanup_cell(lab_page: LabPage, timeout_s: float = 60) -> None:
    """Run the last code cell (close the store, delete its files), as a learner finishing the notebook."""
    page = lab_page.page
    page.locator(".jp-Notebook .jp-CodeCell").last.locator(".jp-InputPrompt").click()
    page.keyboard.press("Control+Enter")  # run in place: Shift+Enter on the last cell appends one
    page.wait_for_function(_ALL_BUT_LAST_RAN.replace(".slice(0, -1)", ""), timeout=timeout_s * 1000, polling=250)
    lab_page.wait_for_idle_kernel(timeout_s)
    assert lab_page.errors() == []


def test_notebook_01_event_inspector_in_the_browser(lab_page: LabPage) -> None:
    open_in_fresh_workspace(lab_page, "01_events_as_facts.ipynb")
    run_all_but_the_cleanup_cell(lab_page)
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
    run_the_cleanup_cell(lab_page)


def test_notebook_02_store_view_in_the_browser(lab_page: LabPage) -> None:
    open_in_fresh_workspace(lab_page, "02_event_store.ipynb")
    run_all_but_the_cleanup_cell(lab_page)
    assert lab_page.errors() == []
    view = lab_page.widget("course-store-view")
    log = view.locator(".course-store-log")
    assert "order-o-2" in lab_page.text(log)
    view.locator(".course-store-stream input").fill("order-browser")  # the learner types a new stream name
    view.locator(".course-store-stream input").press("Enter")
    lab_page.click_button("append an item", within=view)
    streams = lab_page.wait_for_text(view.locator(".course-store-streams"), "order-browser")
    assert re.search(r"order-browser\s+1", streams), streams
    assert re.search(r"15\s+order-browser\s+v1\s+OrderItemAdded", lab_page.text(log)), lab_page.text(log)
    assert lab_page.screenshot("02_store-view", show=view).stat().st_size > 10_000
    run_the_cleanup_cell(lab_page)


def test_notebook_03_time_travel_in_the_browser(lab_page: LabPage) -> None:
    open_in_fresh_workspace(lab_page, "03_aggregates_and_snapshots.ipynb")
    run_all_but_the_cleanup_cell(lab_page)
    assert lab_page.errors() == []
    travel = lab_page.widget("course-time-travel")
    lab_page.set_slider(travel.locator(".course-time-slider"), 1)
    lab_page.wait_for_text(travel.locator(".course-time-event"), "v1: OrderCreated")
    assert "draft" in lab_page.text(travel.locator(".course-time-state"))
    lab_page.set_slider(travel.locator(".course-time-slider"), 7)
    lab_page.wait_for_text(travel.locator(".course-time-event"), "v7: OrderPaid")
    assert '"paid"' in lab_page.text(travel.locator(".course-time-state"))
    assert lab_page.screenshot("03_time-travel", show=travel).stat().st_size > 10_000
    run_the_cleanup_cell(lab_page)
