"""What a saga is: an ordered list of steps, each an action with the compensation that undoes it.

A step's action receives a ``StepContext``: the saga's data so far and an **idempotency key** that stays the
same across retries and across a resume after a crash, so the service can recognise a repeated call. An action may
return a dict; it is merged into the saga's data (and persisted in the log) for the steps after it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from course_lib.errors import CourseError


class SagaDefinitionError(CourseError):
    """The saga definition is malformed (duplicate or empty step names, bad retry counts)."""


@dataclass(frozen=True)
class StepContext:
    """What an action or compensation gets: which saga, which step, which attempt, and the data so far."""

    saga_id: str
    step: str
    attempt: int
    idempotency_key: str
    data: Mapping[str, Any]


Action = Callable[[StepContext], Mapping[str, Any] | None]


@dataclass(frozen=True)
class Step:
    """One step. ``compensation=None`` means nothing to undo (e.g. the last step, or a read)."""

    name: str
    action: Action
    compensation: Action | None = None
    retries: int = 2
    timeout_s: float | None = None
    compensation_name: str | None = None

    @property
    def undo_name(self) -> str:
        """The compensation's display name."""
        return self.compensation_name or f"undo {self.name}"


@dataclass(frozen=True)
class SagaDefinition:
    """A named, ordered list of steps."""

    name: str
    steps: tuple[Step, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        names = [s.name for s in self.steps]
        if any(not n or not n.strip() for n in names):
            raise SagaDefinitionError(f"saga {self.name!r}: every step needs a non-empty name")
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise SagaDefinitionError(
                f"saga {self.name!r}: step names must be unique (the log refers to steps by name); "
                f"duplicated: {', '.join(duplicates)}"
            )
        for s in self.steps:
            if s.retries < 0:
                raise SagaDefinitionError(f"step {s.name!r}: retries must be >= 0, got {s.retries}")

    def then(self, step: Step) -> SagaDefinition:
        """A new definition with ``step`` appended."""
        return replace(self, steps=(*self.steps, step))

    def insert_after(self, existing: str, step: Step) -> SagaDefinition:
        """A new definition with ``step`` inserted right after the step named ``existing``."""
        index = self.index(existing)
        return replace(self, steps=(*self.steps[: index + 1], step, *self.steps[index + 1 :]))

    def index(self, name: str) -> int:
        """The position of a step by name; a clear error when there is none."""
        for i, s in enumerate(self.steps):
            if s.name == name:
                return i
        raise SagaDefinitionError(
            f"saga {self.name!r} has no step {name!r}; its steps are {', '.join(self.step_names)}"
        )

    @property
    def step_names(self) -> list[str]:
        return [s.name for s in self.steps]

    def step(self, name: str) -> Step:
        """A step by name."""
        return self.steps[self.index(name)]


def action_key(saga_id: str, step: str) -> str:
    """The idempotency key of a step's action: the same on every retry and after a resume."""
    return f"{saga_id}/{step}/do"


def compensation_key(saga_id: str, step: str) -> str:
    """The idempotency key of a step's compensation."""
    return f"{saga_id}/{step}/undo"
