"""Notebook 06 in a real browser: run it, slide the failure rate, kill the consumer, send orders and poison; then
the find-the-bug: the callback as given fails its check (the failed payment is lost on the broker), a repair passes."""

from __future__ import annotations

import re

from playwright.sync_api import Locator

from course_lib.waiting import wait_until
from tests.browser.lab import LabPage


def counts(table: Locator) -> dict[str, int]:
    """The panel's counters, read from its table cells."""
    cells = table.locator("td[data-count]")
    return {cells.nth(i).get_attribute("data-count") or "": int(cells.nth(i).inner_text())
            for i in range(cells.count())}


def test_notebook_06_failure_panel_in_the_browser(lab_page: LabPage, rabbitmq_url: str) -> None:
    lab_page.open_notebook("06_rabbitmq_reliability.ipynb")
    # the last cell deletes the panel's queues; first stop the worker that "kill consumer" starts below
    with lab_page.then_clean_up(first="panel.stop()"):
        hurt_the_worker(lab_page)
        repair_the_callback(lab_page)


def hurt_the_worker(lab_page: LabPage) -> None:
    panel = lab_page.page.locator(".jp-OutputArea-output:has(.course-failure-send)").first
    table = panel.locator(".course-failure-counts")
    log = panel.locator(".widget-output")
    before = counts(table)
    # what the notebook's own cells did: 30 orders, each done or parked, plus the parked poison message
    assert before["orders_done"] + before["in_dlq"] >= 31 and before["kills"] == 1

    lab_page.set_slider(panel.locator(".widget-slider").first, 0)
    lab_page.wait_for_text(log, "failure rate now 0%")
    lab_page.click_button("kill consumer", within=panel)  # the notebook stopped its worker: this starts a new one
    lab_page.wait_for_text(log, "a new consumer took over")
    lab_page.click_button("send 10 orders", within=panel)
    lab_page.click_button("send poison", within=panel)
    lab_page.wait_for_text(log, "sent a poison message")

    def settled() -> dict[str, int]:
        lab_page.click_button("refresh", within=panel)
        now = counts(table)
        done = now["orders_done"] == before["orders_done"] + 10  # the failure rate is 0 now: all ten take effect
        return now if done and now["in_dlq"] > before["in_dlq"] and now["ready"] == 0 else {}

    after = wait_until(settled, timeout=30, interval=0.5, what="ten more orders done and the poison dead-lettered")
    assert after["sent"] == 40 and after["kills"] == 2 and after["duplicates_absorbed"] >= before["duplicates_absorbed"]
    assert re.search(r"sent 10 order\(s\)", lab_page.text(log))
    shot = lab_page.screenshot("06_failure-panel", show=panel)
    assert shot.stat().st_size > 10_000


REPAIR = ("def make_on_payment(charge):\\n"
          "    def on_payment(channel, method, properties, body):\\n"
          "        try:\\n"
          "            charge(body)\\n"
          "        except Exception:\\n"
          "            channel.basic_nack(method.delivery_tag, requeue=True)\\n"
          "            return\\n"
          "        channel.basic_ack(method.delivery_tag)\\n"
          "    return on_payment")


def repair_the_callback(lab_page: LabPage) -> None:
    checks = lab_page.page.locator(".course-check")
    placeholder = checks.filter(has_text="repair make_on_payment")
    assert placeholder.count() == 1 and "Not solved yet" in lab_page.text(placeholder.first)

    # the callback as given: the check replays the crash on the broker and finds payment-3 gone
    lab_page.run_new_cell_above_last("check_swallowing_callback(make_on_payment)")
    as_given = lab_page.wait_for_text(checks.last, "payment-3")
    assert "Not yet" in as_given and "lost" in as_given and "Solved" not in as_given

    # a learner's repair, typed on one line as exec(...) so the editor's auto-indent cannot reshape it
    lab_page.run_new_cell_above_last(f'exec("{REPAIR}"); check_swallowing_callback(make_on_payment)')
    repaired = lab_page.wait_for_text(checks.last, "Solved")
    assert "stayed with the broker" in repaired
    assert lab_page.screenshot("06_find-the-bug", show=checks.last).stat().st_size > 5_000
