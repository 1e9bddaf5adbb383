"""Notebook 04 in a real browser: run it, then issue commands and step the projector from the dashboard."""

from __future__ import annotations

import re

from tests.browser.lab import LabPage


def test_notebook_04_cqrs_dashboard_in_the_browser(lab_page: LabPage) -> None:
    lab_page.open_notebook("04_cqrs_and_projections.ipynb")
    with lab_page.then_clean_up():
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
    lab_page.wait_for_text(dashboard, "lag 0")
    # the status line and the table are separate outputs that update one after the other: wait for the row itself
    lab_page.wait_for_text(dashboard, re.compile(rf"{order_id}\s+ada\s+\w+\s+2\s+25\.00"))  # 2 mugs

    lab_page.click_button("submit order", within=dashboard)
    lab_page.click_button("add mug", within=dashboard)  # no current order after submitting: rejected, not raised
    lab_page.wait_for_text(log, "rejected: ValueError: no current order")
    shot = lab_page.screenshot("04_cqrs-dashboard", show=dashboard)
    assert shot.stat().st_size > 10_000
