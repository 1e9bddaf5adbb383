"""Notebook 09 in a real browser: run all cells, pick a failing step, run the saga, see the diagram drawn."""

from __future__ import annotations

from tests.browser.lab import LabPage


def test_notebook_09_saga_playground_in_the_browser(lab_page: LabPage, rabbitmq_url: str, postgres_url: str) -> None:
    lab_page.open_notebook("09_sagas.ipynb")
    lab_page.run_all_cells(timeout_s=120)
    assert lab_page.errors() == []
    # the definition diagram at the top is drawn by JupyterLab's Mermaid renderer, not shown as text
    drawn = "img[src*='jp-mermaid']"  # JupyterLab draws Mermaid as an SVG image
    assert lab_page.page.locator(drawn).count() >= 1

    playground = lab_page.widget("course-saga-playground")
    playground.locator("select").first.select_option("create_shipment")
    playground.locator("select").nth(1).select_option("unavailable")
    lab_page.click_button("run saga", within=playground)
    log = lab_page.wait_for_text(playground.locator(".course-saga-log"), "run 3: unavailable at create_shipment")
    assert "compensated: charge_payment, reserve_inventory" in log
    lab_page.wait_for_text(playground.locator(".course-saga-status"), "compensated")  # updates after the log
    diagram = playground.locator(f".course-saga-diagram {drawn}")
    diagram.first.wait_for(timeout=30_000)
    shot = lab_page.screenshot("09_sagas-playground", show=playground)
    assert shot.stat().st_size > 10_000
