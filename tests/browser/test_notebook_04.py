"""Notebook 04 in a real browser: run it, then issue commands and step the projector from the dashboard.

Also the helpers the browser tests of notebooks 04–06 share: every one of these notebooks ends with a clean-up
cell that deletes what it created, and the tests run it even when an assertion fails, so nothing is left behind.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

from tests.browser.lab import LabPage
from tests.browser.test_notebooks_01_03 import _ALL_BUT_LAST_RAN, run_all_but_the_cleanup_cell

_ALL_RAN = _ALL_BUT_LAST_RAN.replace(".slice(0, -1)", "")


def run_the_cleanup_cell(lab_page: LabPage, timeout_s: float = 60) -> None:
    """Run the last code cell in place (Ctrl+Enter: Shift+Enter on the notebook's last cell would append an
    empty one, which never runs) and wait until every code cell has run."""
    page = lab_page.page
    page.locator(".jp-Notebook .jp-CodeCell").last.locator(".jp-InputPrompt").click()
    page.keyboard.press("Control+Enter")
    page.wait_for_function(_ALL_RAN, timeout=timeout_s * 1000, polling=250)
    lab_page.wait_for_idle_kernel(timeout_s)


def run_in_a_new_cell_above_the_last(lab_page: LabPage, code: str) -> None:
    """Insert a code cell above the last one and run it, as a learner would (the server serves a copy)."""
    page = lab_page.page
    page.locator(".jp-Notebook .jp-CodeCell").last.locator(".jp-InputPrompt").click()
    page.keyboard.press("a")  # command mode: insert a cell above
    page.keyboard.press("Enter")  # edit it
    page.keyboard.type(code)
    page.keyboard.press("Shift+Enter")
    lab_page.wait_for_idle_kernel()


@contextlib.contextmanager
def then_clean_up(lab_page: LabPage, *, first: str = "") -> Iterator[None]:
    """Run all cells but the clean-up cell; after the block — also when it fails — run ``first`` (code that stops
    what the widget started) and the clean-up cell. On success, no cell may show an error."""
    run_all_but_the_cleanup_cell(lab_page)
    try:
        assert lab_page.errors() == []
        yield
    finally:
        if first:
            run_in_a_new_cell_above_the_last(lab_page, first)
        run_the_cleanup_cell(lab_page)
    assert lab_page.errors() == []


def test_notebook_04_cqrs_dashboard_in_the_browser(lab_page: LabPage) -> None:
    lab_page.open_notebook("04_cqrs_and_projections.ipynb")
    with then_clean_up(lab_page):
        drive_the_dashboard(lab_page)


def drive_the_dashboard(lab_page: LabPage) -> None:
    dashboard = lab_page.page.locator(".jp-OutputArea-output:has(.course-cqrs-place)").first
    log = dashboard.locator(".widget-output")

    lab_page.click_button("place order", within=dashboard)
    placed = re.search(r"PlaceOrder (d\d+) for ada", lab_page.wait_for_text(log, " for ada →"))
    assert placed, lab_page.text(log)
    order_id = placed.group(1)
    lab_page.click_button("add mug", within=dashboard)
    lab_page.click_button("add mug", within=dashboard)
    lab_page.wait_for_text(log, f"AddItem mug x1 to {order_id}")
    status = lab_page.wait_for_text(dashboard, "lag 3")  # three commands written, none projected yet
    assert "lag 3" in status

    lab_page.click_button("project 2", within=dashboard)
    lab_page.wait_for_text(dashboard, "lag 1")
    lab_page.click_button("catch up", within=dashboard)
    lab_page.wait_for_text(log, "projector caught up: 1 event(s)")
    shown = lab_page.wait_for_text(dashboard, "lag 0")
    assert re.search(rf"{order_id}\s+ada\s+\w+\s+2\s+25\.00", shown), shown  # the read model row: 2 mugs

    lab_page.click_button("submit order", within=dashboard)
    lab_page.click_button("add mug", within=dashboard)  # no current order after submitting: rejected, not raised
    lab_page.wait_for_text(log, "rejected: ValueError: no current order")
    shot = lab_page.screenshot("04_cqrs-dashboard", show=dashboard)
    assert shot.stat().st_size > 10_000
