"""The prediction widget and the check's next-hint button, driven from code exactly as a click drives them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from course_lib.exercises import reset_hints
from course_lib.exercises.nb02 import check_save_with_retry
from course_lib.widgets.check_view import CheckView
from course_lib.widgets.prediction import Prediction


@pytest.fixture(autouse=True)
def _hints_hidden() -> Iterator[None]:
    reset_hints()
    yield
    reset_hints()


def _shown(output: object) -> str:
    return "".join(item.get("data", {}).get("text/html", "") + item.get("text", "")
                   for item in output.outputs)  # type: ignore[attr-defined]


def test_a_locked_choice_is_judged_by_the_run() -> None:
    prediction = Prediction("What happens?", choices=["both save", "one is refused"])
    prediction.choose("both save").lock()
    assert prediction.locked == "both save" and prediction.input.disabled and prediction.button.disabled
    assert "one is refused" not in _shown(prediction.status)  # nothing is revealed before the run
    verdict = prediction.reveal("one is refused", why="the second append expected a stale version")
    assert verdict.right is False and verdict.predicted == "both save"
    assert "Not quite" in _shown(prediction.status) and "stale version" in _shown(prediction.status)


def test_the_button_locks_like_code_and_a_locked_prediction_is_kept() -> None:
    prediction = Prediction("Which?", choices=["a", "b", "c"])
    prediction.input.value = "b"  # the learner clicks b …
    prediction.button.click()  # … and locks it in
    prediction.choose("c").lock()  # the notebook's own driving cell runs afterwards
    assert prediction.locked == "b"
    assert prediction.reveal("b", why="because").right is True


def test_lock_without_an_answer_stays_open_and_says_so() -> None:
    prediction = Prediction("How many?", unit="events")
    prediction.lock()
    assert prediction.locked is None and not prediction.button.disabled
    assert "Choose an answer first" in _shown(prediction.status)
    prediction.input.value = "four"
    prediction.lock()
    assert prediction.locked is None and "not a number" in _shown(prediction.status)


def test_a_number_is_right_within_its_tolerance() -> None:
    exact = Prediction("How many?", unit="events")
    assert exact.choose(4).lock() is None  # a cell ending in .lock() does not show the widget a second time
    verdict = exact.reveal(4, why="nothing was committed")
    assert exact.locked == 4.0 and verdict.right is True
    assert "you predicted 4, and the run gave 4." in verdict.text()  # numbers shown as numbers
    close = Prediction("How many times faster?", tolerance=0.25, relative=True).choose(9)
    close.lock()
    assert close.reveal(10.0, why="x").right is True
    far = Prediction("How many times faster?", tolerance=0.25, relative=True).choose(5)
    far.lock()
    assert far.reveal(10.0, why="x").right is False


def test_revealing_without_a_prediction_shows_the_outcome_and_closes_the_question() -> None:
    prediction = Prediction("Which?", choices=["a", "b"])
    verdict = prediction.reveal("a", why="because")
    assert verdict.right is None and "did not lock in" in verdict.text()
    prediction.choose("b").lock()
    assert prediction.locked is None  # too late: the run has answered


def test_a_choice_outside_the_list_is_refused_clearly() -> None:
    prediction = Prediction("Which?", choices=["a", "b"])
    with pytest.raises(ValueError, match="not one of the choices"):
        prediction.choose("z")
    with pytest.raises(ValueError, match="not one of the choices"):
        prediction.reveal("z", why="")


def test_the_next_hint_button_reveals_one_hint_at_a_time() -> None:
    result = check_save_with_retry(None)
    view = CheckView(result)
    concept, approach, skeleton = check_save_with_retry.all_hints
    assert concept in view.verdict.value and approach not in view.verdict.value
    assert view.button.description == "next hint (2 left)"
    view.button.click()
    assert approach in _shown(view.hints) and skeleton not in _shown(view.hints)
    view.button.click()
    assert skeleton.split("\n")[0] in _shown(view.hints) and "the last hint" in _shown(view.hints)
    assert view.button.disabled and view.button.description == "no more hints"
    assert check_save_with_retry(None).hints == [concept, approach, skeleton]  # the ladder is shared


def test_a_solved_check_has_no_hint_button() -> None:
    from solutions.nb02 import save_with_retry

    view = CheckView(check_save_with_retry(save_with_retry))
    assert view.ladder is None and view.button not in view.view.children
