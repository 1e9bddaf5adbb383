"""Notebook 07 in a real browser: run it, add and remove consumers on the partition board, watch the rebalance."""

from __future__ import annotations

import re

from playwright.sync_api import Locator

from course_lib.waiting import wait_until
from tests.browser.lab import LabPage


def owners(lab_page: LabPage, board: Locator) -> dict[str, str]:
    """Partition → owner, as the board shows it after "refresh lag" (assignments change in the background)."""
    lab_page.click_button("refresh lag", within=board)
    text = lab_page.text(board.locator(".course-partition-lanes"))
    return dict(re.findall(r"^(P\d)\b.*?\b(consumer-\d+|unassigned)\b", text, flags=re.M))


def test_notebook_07_partition_board_in_the_browser(lab_page: LabPage, kafka_bootstrap: str) -> None:
    lab_page.open_notebook("07_kafka_partitions_and_groups.ipynb")
    with lab_page.then_clean_up():  # the last cell stops the board's consumers and deletes topics and groups
        rebalance(lab_page)


def rebalance(lab_page: LabPage) -> None:
    board = lab_page.widget("course-partition-board")
    lanes, log = board.locator(".course-partition-lanes"), board.locator(".course-partition-log")
    assert "2 consumer(s)" in lab_page.text(lanes)  # where the notebook's own cells left the group

    lab_page.click_button("add consumer", within=board)
    lab_page.wait_for_text(log, "consumer-4 joins")
    lab_page.wait_for_text(lanes, "3 consumer(s)")

    def one_partition_each() -> dict[str, str]:
        shown = owners(lab_page, board)
        return shown if len(set(shown.values()) - {"unassigned"}) == 3 else {}

    three = wait_until(one_partition_each, timeout=30, interval=0.5, what="three consumers to own a partition each")
    assert sorted(three) == ["P0", "P1", "P2"] and "consumer-4" in three.values()

    lab_page.click_button("remove consumer", within=board)
    lab_page.wait_for_text(log, "consumer-4 leaves the group")

    def taken_over() -> dict[str, str]:
        shown = owners(lab_page, board)
        return shown if len(shown) == 3 and not {"unassigned", "consumer-4"} & set(shown.values()) else {}

    two = wait_until(taken_over, timeout=30, interval=0.5, what="the two others to take over consumer-4's partition")
    assert len(set(two.values())) == 2

    lab_page.page.locator(".course-partition-board button", has_text="pause group").click()
    lab_page.wait_for_text(lanes, "paused")
    lab_page.wait_for_text(log, "group paused")
    shot = lab_page.screenshot("07_rebalance", show=board)
    assert shot.stat().st_size > 10_000
    lab_page.page.locator(".course-partition-board button", has_text="pause group").click()
    lab_page.wait_for_text(log, "group resumed")
