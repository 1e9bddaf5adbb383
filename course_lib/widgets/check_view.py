"""The verdict of an exercise check as a widget: the verdict, the hints revealed so far, and a **next hint** button.

The button reveals the exercise's hints one at a time (concept → approach → skeleton) from the same ladder that
``check_x.hint()`` and ``hint("nbNN.name")`` advance, so code and clicks stay in step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ipywidgets as widgets
from IPython.display import HTML

from course_lib.exercises import LEVEL_NAMES, Hint, hint_html, ladder_for

if TYPE_CHECKING:
    from course_lib.exercises import CheckResult


class CheckView:
    """One check result on screen; ``next_hint()`` is what the button does."""

    def __init__(self, result: CheckResult) -> None:
        self.result = result
        self.ladder = None if result.solved or not result.exercise_id else ladder_for(result.exercise_id)
        self.verdict = widgets.HTML(result._repr_html_())
        self.verdict.add_class("course-check-verdict")
        self.hints = widgets.Output()
        self.hints.add_class("course-check-more-hints")
        self.button = widgets.Button(description="next hint", icon="lightbulb-o",
                                     tooltip="reveal the next hint: concept, then approach, then a skeleton")
        self.button.add_class("course-check-hint-button")
        self.button.on_click(lambda _button: self.next_hint())
        children: list[widgets.Widget] = [self.verdict]
        if self.ladder is not None:
            children += [self.button, self.hints]
        self.view = widgets.VBox(children)
        self.view.add_class("course-check")
        self._refresh_button()

    def next_hint(self) -> Hint | None:
        """Reveal the next hint under the verdict (the button's click)."""
        if self.ladder is None:
            return None
        revealed = self.ladder.next()
        self.hints.append_display_data(HTML(  # type: ignore[no-untyped-call]
            f"<div class='course-hint'><b>hint {revealed.number}/3 ({LEVEL_NAMES[revealed.number - 1]})</b>: "
            f"{hint_html(revealed.text)} {revealed.tail}</div>"))
        self._refresh_button()
        return revealed

    def _refresh_button(self) -> None:
        if self.ladder is not None:
            left = len(self.ladder.hints.ladder()) - self.ladder.revealed
            self.button.disabled = left == 0
            self.button.description = f"next hint ({left} left)" if left else "no more hints"
