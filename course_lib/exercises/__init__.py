"""Exercise checks: each says what is right, what is wrong, and gives a hint — never raises on a wrong answer.

A notebook's exercise cell leaves the learner's answer as ``None`` (or a stub); calling the check then shows
"not solved yet" with the first hint, so a top-to-bottom run never breaks on an unsolved exercise.

Checks live in one module per notebook (``course_lib.exercises.nb01`` …); each module lists its checks in
``CHECKS`` so the tests can feed every reference solution (``solutions/``) and a wrong answer to each.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class CheckResult:
    """The verdict of one check: solved or not, what was found, and hints."""

    solved: bool
    message: str
    hints: list[str] = field(default_factory=list)
    attempted: bool = True

    def __bool__(self) -> bool:
        return self.solved

    def __str__(self) -> str:
        if self.solved:
            head = "✔ Solved: "
        elif not self.attempted:
            head = "… Not solved yet: "
        else:
            head = "✘ Not yet: "
        hints = "".join(f"\n  hint: {h}" for h in self.hints)
        return head + self.message + hints

    def _repr_html_(self) -> str:
        colour = "#1a7f37" if self.solved else ("#57606a" if not self.attempted else "#cf222e")
        title = "Solved" if self.solved else ("Not solved yet" if not self.attempted else "Not yet")
        hints = "".join(f"<li>{html.escape(h)}</li>" for h in self.hints)
        hint_block = f"<details><summary>hints</summary><ul>{hints}</ul></details>" if hints else ""
        return (
            f"<div style='border-left:4px solid {colour};padding:4px 10px'>"
            f"<b style='color:{colour}'>{title}</b>: {html.escape(self.message)}{hint_block}</div>"
        )


def solved(message: str) -> CheckResult:
    """A passing verdict."""
    return CheckResult(True, message)


def wrong(message: str, *hints: str) -> CheckResult:
    """A failing verdict that names the problem, with hints."""
    return CheckResult(False, message, list(hints))


def not_attempted(what: str, *hints: str) -> CheckResult:
    """The answer is still the scaffold's placeholder."""
    return CheckResult(False, what, list(hints), attempted=False)


def guarded(check: Callable[..., CheckResult]) -> Callable[..., CheckResult]:
    """Turn an unexpected exception inside a learner's code into a verdict instead of a traceback."""

    def wrapper(*args: Any, **kwargs: Any) -> CheckResult:
        try:
            return check(*args, **kwargs)
        except Exception as exc:  # the learner's code may raise anything; report it, don't crash the cell
            return wrong(f"your code raised {type(exc).__name__}: {exc}",
                         "Run the cell that defines your answer again and read the error above.")

    wrapper.__name__ = check.__name__
    wrapper.__doc__ = check.__doc__
    return wrapper
