"""Notebook 08 in a real browser: run it, then replay the recorded orders with another grace period."""

from __future__ import annotations

import re

from tests.browser.lab import LabPage


def test_notebook_08_grace_slider_in_the_browser(lab_page: LabPage, kafka_bootstrap: str) -> None:
    lab_page.open_notebook("08_kafka_stream_processing.ipynb")
    with lab_page.then_clean_up():  # the last cell deletes the notebook's topics and groups
        slide_the_grace(lab_page)


def slide_the_grace(lab_page: LabPage) -> None:
    chart = lab_page.widget("course-revenue-lab")
    bars, log, slider = (chart.locator(c) for c in (".course-revenue-bars", ".course-revenue-log",
                                                       ".course-revenue-grace"))
    assert "late events: 0" in lab_page.text(bars)  # the notebook leaves the slider at 60 s

    lab_page.set_slider(slider, 2)  # the job's own grace: the till's delayed order is late
    strict = re.search(r"grace 2s: (\d+) late event\(s\), ([\d,.]+) counted", lab_page.wait_for_text(log, "2s:"))
    lab_page.wait_for_text(bars, "late events: 1")

    lab_page.set_slider(slider, 120)  # two minutes: it counts, and every window waits that long to be final
    lenient = re.search(r"grace 120s: (\d+) late event\(s\), ([\d,.]+) counted",
                        lab_page.wait_for_text(log, "120s:"))
    lab_page.wait_for_text(bars, "late events: 0")
    assert strict and lenient and (strict.group(1), lenient.group(1)) == ("1", "0")
    counted = [float(m.group(2).replace(",", "")) for m in (strict, lenient)]
    assert counted[1] > counted[0]  # the late order's money is in a window now, not dropped
    assert "top products:" in lab_page.text(bars)
    shot = lab_page.screenshot("08_grace-slider", show=chart)
    assert shot.stat().st_size > 10_000
