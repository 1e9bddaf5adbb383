"""The learning mechanics in a real browser (notebook 02): a prediction locked in by clicks and judged by the run,
and the check's "next hint" button revealing one hint at a time."""

from __future__ import annotations

from course_lib.exercises.nb02 import APPEND_HINTS
from tests.browser.lab import LabPage


def test_a_prediction_and_the_next_hint_button_in_the_browser(lab_page: LabPage) -> None:
    lab_page.open_notebook("02_event_store.ipynb")
    with lab_page.then_clean_up():
        # the notebook's own prediction: locked in from code, judged by the crash experiment
        crash = lab_page.widget("course-prediction", 0)
        verdict = lab_page.wait_for_text(crash.locator(".course-prediction-status"), "the run gave 4")
        assert "you predicted 5" in verdict and "all or nothing" in verdict

        # a learner's prediction: choose with a click, lock in with the button, then run the "experiment"
        lab_page.run_new_cell_above_last(
            'mine = Prediction("Which is larger?", choices=["three", "four"]); mine')
        mine = lab_page.widget("course-prediction", 1)
        mine.locator("label", has_text="four").click()
        lab_page.click_button("lock in my prediction", within=mine)
        lab_page.wait_for_text(mine.locator(".course-prediction-status"), "Locked in: “four”")
        assert "larger" not in lab_page.text(mine.locator(".course-prediction-status"))  # nothing revealed yet
        lab_page.run_new_cell_above_last('_ = mine.reveal("four", why="4 > 3")')
        judged = lab_page.wait_for_text(mine.locator(".course-prediction-status"), "Right: you predicted “four”")
        assert "Why: 4 > 3" in judged

        # the append exercise's verdict: only the concept, then one more hint per click
        check = lab_page.widget("course-check", 0)
        shown = lab_page.text(check)
        assert APPEND_HINTS.concept[:40] in shown and APPEND_HINTS.approach[:40] not in shown
        lab_page.click_button("next hint", within=check)
        hints = lab_page.wait_for_text(check.locator(".course-check-more-hints"), "hint 2/3 (approach)")
        assert APPEND_HINTS.approach[:40] in hints and "skeleton" not in hints
        lab_page.click_button("next hint", within=check)
        lab_page.wait_for_text(check.locator(".course-check-more-hints"), "hint 3/3 (skeleton)")
        assert check.locator("button.jupyter-button", has_text="no more hints").is_disabled()
        assert lab_page.screenshot("02_prediction", show=mine).stat().st_size > 10_000
        assert lab_page.screenshot("02_next-hint", show=check).stat().st_size > 10_000
