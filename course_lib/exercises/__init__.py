"""Exercise checks: each says what is right or wrong, never raises, and keeps its hints until they are asked for.

A notebook's exercise cell leaves the learner's answer as ``None`` (or a stub); calling the check then shows
"not solved yet" with the first hint, so a top-to-bottom run never breaks on an unsolved exercise.

Each check is declared with :func:`exercise`, which gives it an id (``"nb02.save_with_retry"``), a level (★ to ★★★),
the minutes it takes, and a ladder of three :class:`Hints` — concept, approach, skeleton, never the solution. A
failed check shows the hints revealed so far (at least the concept); the next one comes on request: the
**next hint** button under the verdict, ``check_x.hint()`` or ``hint("nb02.save_with_retry")``. A passed check is
recorded in the learner's progress file (:mod:`course_lib.progress`).

Checks live in one module per notebook (``course_lib.exercises.nb01`` …); each lists its checks in ``CHECKS`` so the
tests can feed every reference solution (``solutions/``) and the wrong answers in ``solutions/wrong/`` to each.
"""

from __future__ import annotations

import functools
import html
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

LEVELS = ("★", "★★", "★★★")
LEVEL_NAMES = ("concept", "approach", "skeleton")


@dataclass(frozen=True)
class Hints:
    """Three graduated hints: the idea behind it, how to go about it, and a skeleton with the logic left out."""

    concept: str
    approach: str
    skeleton: str

    def ladder(self) -> tuple[str, str, str]:
        """The hints in the order they are revealed."""
        return (self.concept, self.approach, self.skeleton)


class HintLadder:
    """How far one exercise's hints have been revealed; shared by its check, its button and ``hint()``."""

    def __init__(self, exercise_id: str, hints: Hints) -> None:
        self.exercise_id = exercise_id
        self.hints = hints
        self.revealed = 1  # the concept comes with the first failed check

    def shown(self) -> list[str]:
        """The hints revealed so far, in order."""
        return list(self.hints.ladder()[: self.revealed])

    def next(self) -> Hint:
        """Reveal the next hint (the last one again once all are out)."""
        ladder = self.hints.ladder()
        if self.revealed < len(ladder):
            self.revealed += 1
        number = self.revealed
        more = number < len(ladder)
        return Hint(self.exercise_id, number, ladder[number - 1], more)

    def reset(self) -> None:
        """Back to only the concept."""
        self.revealed = 1


@dataclass(frozen=True)
class Hint:
    """One revealed hint; shows itself as text or HTML."""

    exercise_id: str
    number: int
    text: str
    more: bool

    @property
    def tail(self) -> str:
        """Said after the last hint."""
        return "" if self.more else "(that is the last hint; the reference solution is in solutions/)"

    def __str__(self) -> str:
        text = f"hint {self.number}/3 ({LEVEL_NAMES[self.number - 1]}): {self.text}"
        return f"{text}  {self.tail}" if self.tail else text

    def _repr_html_(self) -> str:
        head = f"hint {self.number}/3 ({LEVEL_NAMES[self.number - 1]})"
        return f"<div class='course-hint'><b>{head}</b>: {hint_html(self.text)} {html.escape(self.tail)}</div>"


_LADDERS: dict[str, HintLadder] = {}


def hint_html(text: str) -> str:
    """A hint as HTML: a skeleton (several lines of code) keeps its lines and indentation."""
    return f"<pre>{html.escape(text)}</pre>" if "\n" in text else html.escape(text)


def ladder_for(exercise_id: str) -> HintLadder | None:
    """The hint ladder of an exercise, importing its notebook's module (``nbNN``) when needed."""
    if exercise_id not in _LADDERS and "." in exercise_id:
        try:
            importlib.import_module(f"course_lib.exercises.{exercise_id.split('.', 1)[0]}")
        except ImportError:
            return None
    return _LADDERS.get(exercise_id)


def hint(exercise_id: str) -> Hint | str:
    """Reveal the next hint of an exercise, e.g. ``hint("nb02.save_with_retry")``."""
    ladder = ladder_for(exercise_id)
    if ladder is None:
        known = ", ".join(sorted(_LADDERS)) or "none loaded yet"
        return f"no exercise {exercise_id!r}: use the id a check shows, like 'nb02.save_with_retry' (loaded: {known})"
    return ladder.next()


def reset_hints() -> None:
    """Hide every exercise's hints again (back to the concept only)."""
    for ladder in _LADDERS.values():
        ladder.reset()


@dataclass(frozen=True)
class CheckResult:
    """The verdict of one check: solved or not, what was found, and the hints revealed so far."""

    solved: bool
    message: str
    hints: list[str] = field(default_factory=list)
    attempted: bool = True
    exercise_id: str = ""

    def __bool__(self) -> bool:
        return self.solved

    @property
    def headline(self) -> str:
        """Solved, not yet, or not solved yet."""
        if self.solved:
            return "Solved"
        return "Not yet" if self.attempted else "Not solved yet"

    def hint(self) -> Hint | str:
        """Reveal the next hint of this result's exercise."""
        return hint(self.exercise_id)

    def __str__(self) -> str:
        mark = "✔" if self.solved else ("✘" if self.attempted else "…")
        text = f"{mark} {self.headline}: {self.message}"
        text += "".join(f"\n  hint {i}/3 ({LEVEL_NAMES[i - 1]}): {h}" for i, h in enumerate(self.hints, start=1))
        if not self.solved and self.exercise_id and len(self.hints) < len(LEVEL_NAMES):
            text += f"\n  next hint: the button below, or hint({self.exercise_id!r})"
        return text

    def _repr_html_(self) -> str:
        colour = "#1a7f37" if self.solved else ("#57606a" if not self.attempted else "#cf222e")
        hints = "".join(f"<li>{hint_html(h)}</li>" for h in self.hints)
        return (
            f"<div style='border-left:4px solid {colour};padding:4px 10px'>"
            f"<b style='color:{colour}'>{self.headline}</b>: {html.escape(self.message)}"
            + (f"<ol class='course-check-hints'>{hints}</ol>" if hints else "") + "</div>"
        )

    def _ipython_display_(self) -> None:
        from IPython.display import display

        from course_lib.widgets.check_view import CheckView

        display(CheckView(self).view)  # type: ignore[no-untyped-call]


def solved(message: str) -> CheckResult:
    """A passing verdict."""
    return CheckResult(True, message)


def wrong(message: str) -> CheckResult:
    """A failing verdict that names the problem — what is wrong, never the answer."""
    return CheckResult(False, message)


def not_attempted(what: str) -> CheckResult:
    """The answer is still the scaffold's placeholder."""
    return CheckResult(False, what, attempted=False)


def guarded(check: Callable[..., CheckResult]) -> Callable[..., CheckResult]:
    """Turn an unexpected exception inside a learner's code into a verdict instead of a traceback."""

    @functools.wraps(check)
    def wrapper(*args: Any, **kwargs: Any) -> CheckResult:
        try:
            return check(*args, **kwargs)
        except Exception as exc:  # the learner's code may raise anything; report it, don't crash the cell
            return wrong(f"your code raised {type(exc).__name__}: {exc} — run the cell that defines your answer "
                         "again and read the error")

    return wrapper


class Check:
    """A check function with its exercise's id, level, minutes and hint ladder; call it with the answer."""

    def __init__(self, function: Callable[..., CheckResult], exercise_id: str, hints: Hints, level: str,
                 minutes: int, title: str) -> None:
        if level not in LEVELS:
            raise ValueError(f"level must be one of {LEVELS}, got {level!r}")
        self.function = guarded(function)
        self.exercise_id = exercise_id
        self.level = level
        self.minutes = minutes
        self.title = title
        self.ladder = _LADDERS.setdefault(exercise_id, HintLadder(exercise_id, hints))
        self.ladder.hints = hints
        functools.update_wrapper(self, function)

    def __call__(self, *args: Any, **kwargs: Any) -> CheckResult:
        result = self.function(*args, **kwargs)
        if result.solved:
            from course_lib.progress import record_pass

            record_pass(self.exercise_id)
            return replace(result, hints=[], exercise_id=self.exercise_id)
        return replace(result, hints=self.ladder.shown(), exercise_id=self.exercise_id)

    def hint(self) -> Hint:
        """Reveal the next hint: concept → approach → skeleton."""
        return self.ladder.next()

    @property
    def all_hints(self) -> tuple[str, str, str]:
        """Every hint of the ladder (for tests and instructors)."""
        return self.ladder.hints.ladder()

    def __repr__(self) -> str:
        return f"<check {self.exercise_id} {self.level} ~{self.minutes} min: {self.title}>"


def exercise(exercise_id: str, *, title: str, level: str, minutes: int,
             hints: Hints) -> Callable[[Callable[..., CheckResult]], Check]:
    """Declare a check: ``@exercise("nb02.append", title=..., level="★★", minutes=20, hints=Hints(...))``."""

    def declare(function: Callable[..., CheckResult]) -> Check:
        return Check(function, exercise_id, hints, level, minutes, title)

    return declare
