"""Notebook 00 in a real browser: run all cells, press the doctor's "check again", watch the table re-render."""

from __future__ import annotations

import re

from tests.browser.lab import LabPage

SERVICES = ["RabbitMQ (AMQP)", "RabbitMQ management", "Kafka broker", "PostgreSQL", "Event store", "State folder"]


def test_notebook_00_doctor_widget_rechecks_in_the_browser(
    lab_page: LabPage, rabbitmq_url: str, kafka_bootstrap: str
) -> None:
    lab_page.open_notebook("00_start_here.ipynb")
    lab_page.run_all_cells(timeout_s=120)
    assert lab_page.errors() == []
    assert not lab_page.news_prompt_shown()  # no toast over the widgets on first open

    doctor = lab_page.widget("course-doctor-panel")  # the first panel: the real services, not the broken demo
    status = doctor.locator(".course-doctor-status")
    before = lab_page.text(status)
    match = re.search(r"check #(\d+)", before)
    assert match, before
    runs = int(match.group(1))  # the notebook itself ran the checks a few times

    lab_page.click_button("check again", within=doctor)
    after = lab_page.wait_for_text(status, f"check #{runs + 1}")
    assert "ready" in after
    table = lab_page.text(doctor.locator(".course-doctor-table"))
    for service in SERVICES:
        assert service in table
    assert "All required services are ready." in table
    log = lab_page.wait_for_text(doctor.locator(".widget-output"), f"check #{runs + 1}:")
    assert "all required services ready" in log

    warmup = lab_page.widget("course-drain-slider")
    lab_page.set_slider(warmup, 4)
    result = lab_page.wait_for_text(lab_page.widget("course-drain-result"), "with 4 consumer(s):")
    assert "drained in 1.5 s" in result

    shot = lab_page.screenshot("00_start_here-doctor", show=doctor)
    assert shot.stat().st_size > 10_000
