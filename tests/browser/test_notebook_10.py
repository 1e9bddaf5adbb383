"""Notebook 10 in a real browser: run all cells, then press the outbox lab's buttons and watch the counters.

The notebook's last cell cleans up its own broker objects but leaves the lab running, so a learner can keep playing.
"""

from __future__ import annotations

import re

from playwright.sync_api import Locator

from course_lib.waiting import wait_until
from tests.browser.lab import LabPage


def counters(lab_page: LabPage, table: Locator) -> dict[str, int]:
    """The counters table as shown in the browser."""
    text = lab_page.text(table)
    return {name.strip(): int(value) for name, value in re.findall(r"([a-z >1]+?)\s+(\d+)\s*(?:\n|$)", text)}


def wait_for_counter(lab_page: LabPage, table: Locator, name: str, value: int) -> dict[str, int]:
    """Wait until the browser shows ``name`` = ``value`` (the click's kernel round trip is asynchronous)."""
    return wait_until(lambda: (c := counters(lab_page, table)).get(name) == value and c, timeout=30,
                      what=f"the counter {name!r} to show {value}")


def test_notebook_10_outbox_lab_in_the_browser(lab_page: LabPage, rabbitmq_url: str, kafka_bootstrap: str) -> None:
    lab_page.open_notebook("10_outbox_and_idempotency.ipynb")
    lab_page.run_all_cells(timeout_s=120)
    assert lab_page.errors() == []
    lab = lab_page.widget("course-outbox-lab")
    table = lab.locator(".course-outbox-counters")
    assert counters(lab_page, table)["outbox written"] == 6  # what the notebook's own cells did

    lab_page.click_button("place 3 orders", within=lab)
    wait_for_counter(lab_page, table, "outbox pending", 6)
    lab_page.click_button("kill relay mid-batch", within=lab)
    wait_for_counter(lab_page, table, "relay crashes", 2)
    lab_page.click_button("run relay", within=lab)
    wait_for_counter(lab_page, table, "outbox pending", 0)
    lab_page.click_button("deliver", within=lab)
    shown = wait_for_counter(lab_page, table, "effects applied", 12)
    assert shown["duplicates absorbed"] == 2
    assert shown["events with >1 effect"] == 0
    assert "relay killed after a publish" in lab_page.text(lab.locator(".course-outbox-log"))
    shot = lab_page.screenshot("10_outbox-lab", show=lab)
    assert shot.stat().st_size > 10_000
