"""Notebooks 07 and 08 in a real browser: the partition board's buttons and the revenue chart's lateness slider."""

from __future__ import annotations

import re

from course_lib.waiting import wait_until
from tests.browser.lab import LabPage
from tests.browser.test_notebooks_01_03 import open_in_fresh_workspace, run_all_but_the_cleanup_cell

_LAST_RAN = """() => {
    const prompts = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')];
    return prompts.length > 0 && /^\\[\\d+\\]:$/.test(prompts[prompts.length - 1].textContent.trim());
}"""


def run_the_cleanup_cell(lab_page: LabPage, timeout_s: float = 60) -> None:
    """Run the last code cell with Ctrl+Enter: these notebooks end with it, and Shift+Enter would add a cell."""
    page = lab_page.page
    page.locator(".jp-Notebook .jp-CodeCell").last.locator(".jp-InputPrompt").click()
    page.keyboard.press("Control+Enter")
    page.wait_for_function(_LAST_RAN, timeout=timeout_s * 1000, polling=250)
    lab_page.wait_for_idle_kernel(timeout_s)
    assert lab_page.errors() == []
    assert "cleaned up" in page.locator(".jp-Notebook .jp-CodeCell").last.inner_text()


def test_notebook_07_partition_board_in_the_browser(lab_page: LabPage, kafka_bootstrap: str) -> None:
    open_in_fresh_workspace(lab_page, "07_kafka_partitions_and_groups.ipynb")
    run_all_but_the_cleanup_cell(lab_page)  # the last cell stops the consumers and deletes the topics
    assert lab_page.errors() == []
    board = lab_page.widget("course-partition-board")
    lanes = board.locator(".course-partition-lanes")
    assert "2 consumer(s)" in lab_page.text(lanes)  # the notebook ends section 3 with two consumers

    lab_page.click_button("add consumer", within=board)
    lab_page.wait_for_text(lanes, "3 consumer(s)")
    lab_page.wait_for_text(board.locator(".course-partition-log"), "consumer-4 joins")

    lab_page.click_button("refresh lag", within=board)
    shown = lab_page.wait_for_text(lanes, "P2")
    assert re.findall(r"P\d", shown) == ["P0", "P1", "P2"]

    lab_page.click_button("remove consumer", within=board)
    lab_page.wait_for_text(board.locator(".course-partition-log"), "consumer-4 leaves the group")
    lab_page.wait_for_text(lanes, "2 consumer(s)")
    wait_until(lambda: "unassigned" not in lab_page.text(lanes), timeout=30,
               what="the two remaining consumers to own every partition again")
    shot = lab_page.screenshot("07_partition-board", show=board)
    assert shot.stat().st_size > 10_000
    run_the_cleanup_cell(lab_page)


def test_notebook_08_lateness_slider_in_the_browser(lab_page: LabPage, kafka_bootstrap: str) -> None:
    open_in_fresh_workspace(lab_page, "08_kafka_stream_processing.ipynb")
    run_all_but_the_cleanup_cell(lab_page)
    assert lab_page.errors() == []
    lab = lab_page.widget("course-revenue-lab")
    bars = lab.locator(".course-revenue-bars")
    assert "late events: 0" in lab_page.text(bars)  # the notebook leaves the slider at 60 s

    lab_page.set_slider(lab.locator(".course-revenue-lateness"), 0)
    lab_page.wait_for_text(bars, "late events: 1")
    lab_page.wait_for_text(lab.locator(".course-revenue-log"), "lateness 0s: 1 late event(s)")

    lab_page.set_slider(lab.locator(".course-revenue-lateness"), 60)
    lab_page.wait_for_text(bars, "late events: 0")
    assert "top products:" in lab_page.text(bars)
    shot = lab_page.screenshot("08_revenue-chart", show=lab)
    assert shot.stat().st_size > 10_000
    run_the_cleanup_cell(lab_page)
