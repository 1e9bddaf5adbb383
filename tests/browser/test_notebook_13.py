"""Notebook 13 in a real browser: run the capstone, see the journey drawn, press the dashboard's chaos buttons.

Everything but the clean-up cell runs first, so the shop's workers are still alive when the buttons are pressed;
the clean-up cell then stops them and deletes the run's topics, queues and exchange.
"""

from __future__ import annotations

import re

from course_lib.waiting import wait_until
from tests.browser.lab import LabPage


def shown_numbers(lab_page: LabPage, dashboard_numbers: object) -> dict[str, int]:
    """The dashboard's numbers panel as the browser shows it: label → current value."""
    text = lab_page.text(dashboard_numbers)  # type: ignore[arg-type]
    return {label.strip(): int(float(value)) for label, value in
            re.findall(r"([a-z /()A-Z]+?)\s+(\d+(?:\.\d+)?)(?:\s+peak \S+)?\s*(?:\n|$)", text)}


def test_notebook_13_capstone_dashboard_in_the_browser(lab_page: LabPage, rabbitmq_url: str,
                                                       kafka_bootstrap: str) -> None:
    lab_page.open_notebook("13_capstone_order_system.ipynb")
    with lab_page.then_clean_up():
        # the order's journey is drawn by JupyterLab's Mermaid renderer, not left as text
        assert lab_page.page.locator("img[src*='jp-mermaid']").count() >= 3
        dashboard = lab_page.widget("course-capstone-dashboard")
        numbers = dashboard.locator(".course-capstone-numbers")
        # the shop is live: on a busy machine the first sample can catch the saga with a message still in hand
        def settled() -> dict[str, int] | None:
            lab_page.click_button("Sample now", within=dashboard)
            shown = shown_numbers(lab_page, numbers)
            return shown if shown.get("saga queue depth") == 0 and shown.get("projector lag") == 0 else None

        before = wait_until(settled, timeout=30, interval=0.5, what="the dashboard to show the shop at rest")
        assert before["events stored"] > 200, before

        log = dashboard.locator(".course-capstone-log")
        assert lab_page.text(log).count("kill consumer: done") == 1  # the notebook's drill pressed it once
        for button in ("kill consumer", "kill relay"):
            lab_page.click_button(button, within=dashboard)
            wait_until(lambda b=button: lab_page.text(log).count(f"{b}: done") == 2, timeout=30,
                       what=f"the log to show the click on {button!r}")
        lab_page.click_button("Sample now", within=dashboard)
        after = wait_until(lambda: (n := shown_numbers(lab_page, numbers)).get("events stored") == before[
            "events stored"] and n, timeout=30, what="the dashboard to show the same event count after the kills")
        assert after["projector lag"] == 0
        shot = lab_page.screenshot("13_capstone-dashboard", show=dashboard)
        assert shot.stat().st_size > 10_000
