"""Notebook 05 in a real browser: run it, publish with routing keys from the lab's form, empty the queues."""

from __future__ import annotations

import re

from course_lib.waiting import wait_until
from tests.browser.lab import LabPage


def test_notebook_05_routing_lab_in_the_browser(lab_page: LabPage, rabbitmq_url: str) -> None:
    lab_page.open_notebook("05_rabbitmq_routing.ipynb")
    with lab_page.then_clean_up():  # the last cell deletes the lab's exchanges and queues
        publish_from_the_form(lab_page)


def publish_from_the_form(lab_page: LabPage) -> None:
    lab = lab_page.page.locator(".jp-OutputArea-output:has(.course-routing-publish)").first
    result = lab.locator(".course-routing-result")
    key = lab.locator(".widget-text input").first

    key.fill("order.created")
    lab_page.click_button("publish", within=lab)
    shown = lab_page.wait_for_text(result, "order.created via nb05-shop-")
    assert "as the bindings predict" in shown
    assert result.locator("[data-received='3']").count() == 1  # welcome, summary and audit
    for queue in ("welcome-emails", "order-summary", "order-audit"):
        assert queue in shown

    key.fill("shipment.created")
    lab_page.click_button("publish", within=lab)
    shown = lab_page.wait_for_text(result, "returned to the publisher")
    assert "shipment.created" in shown and "none" in shown

    output = lab.locator(".widget-output").last  # the first Output holds the diagram
    emptied = len(re.findall(r"removed \d+ message", lab_page.text(output)))  # the notebook emptied it once
    lab_page.click_button("empty queues", within=lab)
    removed = wait_until(lambda: re.findall(r"removed (\d+) message", lab_page.text(output))[emptied:],
                         timeout=30, what="the lab to report what it removed")
    assert int(removed[0]) >= 3
    depths = lab.locator(".course-routing-depths")  # redrawn just after the log line: wait for it
    wait_until(lambda: re.findall(r"nb05-\S+\s+(\d+)", lab_page.text(depths)) == ["0", "0", "0"], timeout=10,
               what="every queue of the lab to show 0 ready messages")
    shot = lab_page.screenshot("05_routing-lab", show=lab)
    assert shot.stat().st_size > 10_000
