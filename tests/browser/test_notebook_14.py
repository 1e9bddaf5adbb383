"""Notebook 14 in a real browser: run all cells, pick a scenario and a setting, run it, see it join the chart."""

from __future__ import annotations

from tests.browser.lab import LabPage


def test_notebook_14_perf_lab_in_the_browser(lab_page: LabPage, rabbitmq_url: str, kafka_bootstrap: str) -> None:
    lab_page.open_notebook("14_measuring_performance.ipynb")
    lab_page.run_all_cells(timeout_s=180)
    assert lab_page.errors() == []

    perf_lab = lab_page.widget("course-perf-lab")
    status = perf_lab.locator(".course-perf-status")
    # the notebook itself ran two publish settings through the widget
    assert "run #2" in lab_page.text(status)
    # the notebook closed the lab in its last cells: the widget re-creates what it needs and still measures
    perf_lab.locator("select").first.select_option("projection rebuild")
    perf_lab.locator("select").nth(1).select_option("batch 100")
    lab_page.click_button("run", within=perf_lab)
    shown = lab_page.wait_for_text(status, "run #3", timeout_s=60)
    assert "projection rebuild / batch 100" in shown and "events/s" in shown
    # the table is redrawn after the status line: wait for the new row, and the notebook's rows stay
    table = lab_page.wait_for_text(perf_lab.locator(".course-perf-table"), "projection rebuild")
    assert "confirm batch" in table
    # JupyterLab shows the SVG chart as an image: the projection rebuild chart (the selected scenario)
    perf_lab.locator(".course-perf-chart img").first.wait_for(timeout=30_000)
    shot = lab_page.screenshot("14_measuring_performance-lab", show=perf_lab)
    assert shot.stat().st_size > 10_000
