"""Notebook 11 in a real browser: run all cells, pick stored events in the upcaster view's dropdown, and see the
find-the-bug check reject the hasty upcaster as the notebook hands it over."""

from __future__ import annotations

from tests.browser.lab import LabPage


def test_notebook_11_upcaster_view_in_the_browser(lab_page: LabPage, rabbitmq_url: str) -> None:
    lab_page.open_notebook("11_event_versioning.ipynb")
    lab_page.run_all_cells(timeout_s=120)
    assert lab_page.errors() == []
    view = lab_page.widget("course-upcaster-view")
    stages = view.locator(".course-upcaster-stages")
    lab_page.wait_for_text(stages, "loads as OrderPlaced")  # where the notebook's own cells left it

    view.locator(".course-upcaster-picker select").select_option(label="#2 order-1 v2 · OrderItemAdded (schema v1)")
    shown = lab_page.wait_for_text(stages, "qty→quantity")
    assert "after step 2" in shown and "loads as OrderItemAdded" in shown
    added = stages.locator("[data-stage='1'] [data-field='currency']")
    assert "dafbe1" in (added.get_attribute("style") or "")  # the field step 1 added is highlighted

    view.locator(".course-upcaster-picker select").select_option(label="#1 order-1 v1 · OrderPlaced (schema v1)")
    shown = lab_page.wait_for_text(stages, "ShippingAddressChosen v1")
    assert "loads as OrderPlaced + ShippingAddressChosen" in shown
    assert stages.locator("[data-stage='1'] > div").count() == 2  # the split: two events after step 1
    shot = lab_page.screenshot("11_upcaster-view", show=view)
    assert shot.stat().st_size > 10_000

    # find the bug: the placeholder waits; the upcaster as given is rejected with what it broke, not the fix
    assert "Not solved yet" in lab_page.text(lab_page.widget("course-check", 0))
    lab_page.run_new_cell_above_last("check_hasty_upcaster(add_currency)  # the upcaster as given")
    given = lab_page.wait_for_text(lab_page.widget("course-check", 2), "Not yet")
    assert "changed a stored event" in given and '"currency": "EUR"' not in given
    assert lab_page.errors() == []
