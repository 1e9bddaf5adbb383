"""Predict, then run: the learner locks in a prediction before an experiment; the run reveals whether it was right.

The widget never holds the answer. The experiment's own cell calls ``reveal(actual, why=...)`` with what it
measured, so the answer appears only after the run — and from the run, not from a constant someone could read
ahead. A choice or a number; numbers may carry a tolerance.

Drive it from code exactly like a click (nbval does): ``prediction.choose("…").lock()``. A prediction the learner
already locked in is kept: ``choose`` and ``lock`` then change nothing. Callbacks write with
``Output.append_display_data``, never ``print``.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets
from IPython.display import HTML

Answer = str | float


@dataclass(frozen=True)
class Verdict:
    """What the run showed: the prediction (None when none was locked in), the actual outcome, and why."""

    predicted: Answer | None
    actual: Answer
    why: str
    right: bool | None

    def text(self) -> str:
        """One line: right, wrong or no prediction — then why."""
        if self.right is None:
            head = f"You did not lock in a prediction. The run gave {_show(self.actual)}."
        elif self.right:
            head = f"Right: you predicted {_show(self.predicted)}, and the run gave {_show(self.actual)}."
        else:
            head = f"Not quite: you predicted {_show(self.predicted)}, but the run gave {_show(self.actual)}."
        return f"{head} Why: {self.why}"


def _show(value: Answer | None) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:g}"
    return f"“{value}”"


class Prediction:
    """A question with a choice or a number; ``lock()`` commits the prediction, ``reveal()`` judges it after the run."""

    def __init__(self, question: str, *, choices: Sequence[str] | None = None, unit: str = "",
                 tolerance: float = 0.0, relative: bool = False) -> None:
        if choices is not None and len(choices) < 2:
            raise ValueError("a choice question needs at least two choices")
        self.question = question
        self.choices = list(choices) if choices is not None else None
        self.unit = unit
        self.tolerance = tolerance
        self.relative = relative
        self.locked: Answer | None = None
        self.verdict: Verdict | None = None
        self.prompt = widgets.HTML(f"<b>Predict, then run.</b> {html.escape(question)}")
        self.input: widgets.RadioButtons | widgets.Text
        if self.choices is not None:
            self.input = widgets.RadioButtons(options=self.choices, value=None, layout={"width": "max-content"})
        else:
            self.input = widgets.Text(value="", placeholder="a number", description=unit or "your guess")
        self.input.add_class("course-prediction-input")
        self.button = widgets.Button(description="lock in my prediction", icon="lock")
        self.button.add_class("course-prediction-lock")
        self.button.on_click(lambda _button: self.lock())
        self.status = widgets.Output()
        self.status.add_class("course-prediction-status")
        self.view = widgets.VBox([self.prompt, self.input, self.button, self.status])
        self.view.add_class("course-prediction")

    def choose(self, value: Answer) -> Prediction:
        """Select an answer, like a click on it; ignored once a prediction is locked in."""
        if self.locked is None:
            if self.choices is not None and value not in self.choices:
                raise ValueError(f"{value!r} is not one of the choices {self.choices}")
            self.input.value = value if self.choices is not None else f"{value:g}"
        return self

    def lock(self) -> None:
        """Commit the selected answer (the button's click). Nothing selected: say so and stay open.

        Returns nothing, so a cell ending in ``prediction.choose(...).lock()`` does not show the widget again.
        """
        if self.locked is not None or self.verdict is not None:
            return
        value = self.input.value
        if value is None or value == "":
            self._say("Choose an answer first, then lock it in.")
            return
        if self.choices is None:
            try:
                value = float(str(value).replace(",", "."))
            except ValueError:
                self._say(f"{value!r} is not a number: type one, like 4 or 2.5, then lock it in.")
                return
        self.locked = value
        self.input.disabled = True
        self.button.disabled = True
        self.button.description = "locked in"
        self._say(f"Locked in: {_show(self.locked)}{' ' + self.unit if self.unit and self.choices is None else ''}. "
                  "Now run the experiment below.")

    def reveal(self, actual: Answer, *, why: str) -> Verdict:
        """Judge the locked prediction against what the run showed; shown under the question."""
        if self.choices is not None and actual not in self.choices:
            raise ValueError(f"the run's outcome {actual!r} is not one of the choices {self.choices}")
        right = None if self.locked is None else self._matches(self.locked, actual)
        self.verdict = Verdict(self.locked, actual, why, right)
        self.input.disabled = True
        self.button.disabled = True
        colour = {True: "#1a7f37", False: "#cf222e", None: "#57606a"}[right]
        self.status.append_display_data(HTML(  # type: ignore[no-untyped-call]
            f"<div class='course-prediction-verdict' style='border-left:4px solid {colour};padding:4px 10px'>"
            f"{html.escape(self.verdict.text())}</div>"))
        return self.verdict

    def _matches(self, predicted: Answer, actual: Answer) -> bool:
        if self.choices is not None:
            return predicted == actual
        allowed = self.tolerance * abs(float(actual)) if self.relative else self.tolerance
        return math.isclose(float(predicted), float(actual), abs_tol=allowed + 1e-9)

    def _say(self, text: str) -> None:
        note = HTML(f"<div class='course-prediction-note'>{html.escape(text)}</div>")  # type: ignore[no-untyped-call]
        self.status.append_display_data(note)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        bundle: dict[str, Any] | None = self.view._repr_mimebundle_(**kwargs)
        return bundle
