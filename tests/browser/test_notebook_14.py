"""Notebook 14 in a real browser: run it, then drive the backlog lab's sliders until its alert fires and clears."""

from __future__ import annotations

from course_lib.waiting import wait_until
from tests.browser.lab import LabPage


def test_notebook_14_backlog_lab_in_the_browser(lab_page: LabPage, rabbitmq_url: str) -> None:
    lab_page.open_notebook("14_operating_it.ipynb")
    # the last cell deletes the lab's queue; first stop the producer and consumer that "start" begins below
    with lab_page.then_clean_up(first="lab.stop()"):
        overload_and_recover(lab_page)


def overload_and_recover(lab_page: LabPage) -> None:
    lab = lab_page.widget("course-backlog-lab")
    status = lab.locator(".course-backlog-alert")
    chart = lab.locator(".course-backlog-chart")
    log = lab.locator(".course-backlog-log")
    # the notebook's own run: the alert fired and cleared, and the lab was stopped
    assert "alert ok" in lab_page.text(status)
    assert "stopped" in lab_page.text(log)

    lab_page.set_slider(lab.locator(".course-backlog-producer"), 80)
    lab_page.set_slider(lab.locator(".course-backlog-consumer"), 0)  # a stalled consumer
    lab_page.wait_for_text(log, "consume 0/s")
    lab_page.click_button("start", within=lab)
    lab_page.wait_for_text(status, "ALERT FIRING", timeout_s=30)
    lab_page.screenshot("14_operating_it-backlog-firing", show=lab)

    lab_page.set_slider(lab.locator(".course-backlog-consumer"), 200)
    lab_page.wait_for_text(status, "alert ok", timeout_s=40)
    lab_page.click_button("stop", within=lab)
    lab_page.wait_for_text(lab.locator(".course-backlog-run"), "start")
    points = wait_until(lambda: int(chart.locator("[data-points]").first.get_attribute("data-points") or 0),
                        timeout=10, what="the chart's points")
    assert points >= 8
    shown = lab_page.text(log)
    assert shown.count("ALERT: backlog growing") >= 2 and shown.count("alert cleared") >= 2  # the notebook's + ours
    shot = lab_page.screenshot("14_operating_it-backlog-lab", show=lab)
    assert shot.stat().st_size > 10_000
