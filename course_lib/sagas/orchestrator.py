"""The orchestrator: runs a saga's steps in order and, when one fails for good, undoes the done ones in reverse.

Rules it keeps:
- A step is retried with exponential backoff while its failure is *transient* (a timeout, a refused
  connection); a business "no" (declined card, out of stock) is final at once. Each attempt can have a timeout.
- When a step fails for good, the compensations of the completed steps run **in reverse order**. A compensation
  is retried too; if it keeps failing the saga stops in ``needs_attention`` with the error — visible, never
  silently half-done.
- Every decision is written to the saga log *before* the orchestrator moves on, so ``resume`` after a crash
  continues where the log ends. Actions carry an idempotency key, so re-running a step whose result was not
  logged yet has no second effect.
- Whatever a step returns or raises is an outcome, never a crash of the orchestrator: a result that is not a
  mapping of JSON values fails the step (the log could not keep it), an error whose ``str()`` raises is still
  described. ``resume_all`` resumes every saga it can before it reports the ones that failed.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

from course_lib.errors import CourseError, describe_error
from course_lib.sagas.definition import Action, SagaDefinition, StepContext, action_key, compensation_key
from course_lib.sagas.log import LogEntry, SagaLog, SagaState, fold, load, unfinished


class StepTimeout(CourseError):
    """An attempt took longer than the step's ``timeout_s``."""

    transient = True


class StepResultInvalid(CourseError):
    """A step returned something the saga log cannot keep: a step must return None or a mapping of JSON values."""

    transient = False


class ResumeFailed(CourseError):
    """``resume_all`` could not carry on some sagas; the others were resumed. The first error is chained."""

    def __init__(self, failures: dict[str, BaseException]) -> None:
        self.failures = failures
        shown = "; ".join(f"{saga_id}: {describe_error(exc)}" for saga_id, exc in list(failures.items())[:5])
        super().__init__(f"{len(failures)} saga(s) could not be resumed ({shown}). Fix the cause, then call "
                         "resume(saga_id) for each of them.")


@dataclass(frozen=True)
class Backoff:
    """Delay before retry n (1-based): ``initial_s * factor**(n-1)``, capped, with up to ``jitter`` spread."""

    initial_s: float = 0.05
    factor: float = 2.0
    max_s: float = 2.0
    jitter: float = 0.0

    def delay(self, retry: int, rng: random.Random | None = None) -> float:
        """Seconds to wait before retry number ``retry``."""
        base = min(self.max_s, self.initial_s * self.factor ** (retry - 1))
        if self.jitter and rng is not None:
            base *= 1 + self.jitter * (2 * rng.random() - 1)
        return max(0.0, base)


CrashHook = Callable[[str], None]
"""Called at every point where a real process could die (``"before reserve"``, ``"after reserve"``, …)."""


def _is_transient(exc: BaseException) -> bool:
    try:
        return bool(getattr(exc, "transient", True))
    except Exception:  # a ``transient`` that cannot be read: retrying is the safe guess
        return True


def _describe(exc: BaseException) -> str:
    return describe_error(exc)


def _result_data(step: str, result: object) -> dict[str, Any]:
    """A step's result as log data, or ``StepResultInvalid`` naming what was returned instead."""
    if result is None:
        return {}
    if not isinstance(result, Mapping):
        raise StepResultInvalid(f"step {step!r} returned a {type(result).__name__}; return None or a dict")
    data = dict(result)
    try:
        json.dumps(data, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise StepResultInvalid(f"step {step!r} returned data the saga log cannot store as JSON: "
                                f"{describe_error(exc)}") from exc
    return data


class Orchestrator:
    """Runs sagas of one definition against a log. One orchestrator per saga at a time."""

    def __init__(
        self,
        definition: SagaDefinition,
        log: SagaLog,
        *,
        backoff: Backoff | None = None,
        compensation_retries: int = 3,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        crash_hook: CrashHook | None = None,
    ) -> None:
        self.definition = definition
        self.log = log
        self.backoff = backoff or Backoff()
        self.compensation_retries = compensation_retries
        self._sleep = sleep
        self._rng = rng or random.Random(0)
        self._crash_hook = crash_hook
        self._pool: ThreadPoolExecutor | None = None

    # -- public API -------------------------------------------------------------------------------------------

    def start(self, saga_id: str, data: Mapping[str, Any] | None = None) -> SagaState:
        """Start a new saga and run it to an end state (or until the process dies)."""
        if self.log.entries(saga_id):
            raise CourseError(f"saga {saga_id!r} already exists in the log; call resume({saga_id!r}) instead")
        self._write(saga_id, 1, "saga_started", data=dict(data or {}))
        return self._drive(load(self.log, saga_id))

    def resume(self, saga_id: str) -> SagaState:
        """Carry on a saga from its log; a finished saga is returned as it is."""
        state = load(self.log, saga_id)
        if state.is_terminal:
            return state
        return self._drive(state)

    def resume_all(self) -> list[SagaState]:
        """Resume every unfinished saga in the log (what a restarted process does first).

        One saga that cannot be resumed does not keep the others waiting: ``ResumeFailed`` names it afterwards.
        """
        states: list[SagaState] = []
        failures: dict[str, BaseException] = {}
        for saga_id in unfinished(self.log):
            try:
                states.append(self.resume(saga_id))
            except Exception as exc:  # the next saga still gets its turn
                failures[saga_id] = exc
        if failures:
            raise ResumeFailed(failures) from next(iter(failures.values()))
        return states

    def retry_compensations(self, saga_id: str) -> SagaState:
        """After a person fixed what blocked a compensation, try the remaining compensations again."""
        state = load(self.log, saga_id)
        if state.status != "needs_attention":
            raise CourseError(f"saga {saga_id!r} is {state.status}, not needs_attention; nothing to retry")
        self._write(saga_id, state.last_seq + 1, "attention_cleared")
        return self._drive(load(self.log, saga_id))

    def state(self, saga_id: str) -> SagaState:
        """The saga's state as the log has it."""
        return load(self.log, saga_id)

    def close(self) -> None:
        """Stop the timeout thread pool (threads of timed-out attempts are abandoned, not waited for)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    # -- the engine -----------------------------------------------------------------------------------------

    def _write(self, saga_id: str, seq: int, kind: str, step: str | None = None, attempt: int = 0,
               detail: str = "", data: dict[str, Any] | None = None) -> None:
        self.log.append(LogEntry(saga_id, seq, self.definition.name, kind, step, attempt, detail, data or {}))

    def _append(self, state: SagaState, kind: str, step: str | None = None, attempt: int = 0, detail: str = "",
                data: dict[str, Any] | None = None) -> SagaState:
        entry = LogEntry(state.saga_id, state.last_seq + 1, self.definition.name, kind, step, attempt, detail,
                         data or {})
        self.log.append(entry)  # durable before we act on it
        return fold([*state.entries, entry])

    def _crash_point(self, where: str) -> None:
        if self._crash_hook is not None:
            self._crash_hook(where)

    def _call(self, fn: Action, ctx: StepContext, timeout_s: float | None) -> Mapping[str, Any] | None:
        if timeout_s is None:
            return fn(ctx)
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="saga-step")
        future = self._pool.submit(fn, ctx)
        try:
            return future.result(timeout=timeout_s)
        except FutureTimeout:
            raise StepTimeout(f"step {ctx.step!r} gave no answer within {timeout_s:g}s") from None

    def _drive(self, state: SagaState) -> SagaState:
        if state.status == "running":
            state = self._forward(state)
        if state.status == "compensating":
            state = self._backward(state)
        return state

    def _forward(self, state: SagaState) -> SagaState:
        for step in self.definition.steps[len(state.completed):]:
            attempt = state.attempts.get(step.name, 0)
            while True:
                attempt += 1
                self._crash_point(f"before {step.name}")
                state = self._append(state, "step_started", step.name, attempt)
                ctx = StepContext(state.saga_id, step.name, attempt, action_key(state.saga_id, step.name),
                                  dict(state.data))
                try:
                    result = _result_data(step.name, self._call(step.action, ctx, step.timeout_s))
                except Exception as exc:
                    retries_used = attempt - 1
                    if _is_transient(exc) and retries_used < step.retries:
                        state = self._append(state, "attempt_failed", step.name, attempt, _describe(exc))
                        self._sleep(self.backoff.delay(attempt, self._rng))
                        continue
                    self._crash_point(f"failed {step.name}")
                    return self._append(state, "step_failed", step.name, attempt, _describe(exc))
                self._crash_point(f"after {step.name}")
                state = self._append(state, "step_succeeded", step.name, attempt, data=result)
                break
        self._crash_point("before completion")
        return self._append(state, "saga_completed")

    def _backward(self, state: SagaState) -> SagaState:
        for name in reversed(state.completed):
            if name in state.compensated:
                continue
            step = self.definition.step(name)
            if step.compensation is None:
                state = self._append(state, "compensation_succeeded", name, 0, "nothing to undo")
                continue
            attempt = 0
            while True:
                attempt += 1
                self._crash_point(f"before {step.undo_name}")
                state = self._append(state, "compensation_started", name, attempt)
                ctx = StepContext(state.saga_id, name, attempt, compensation_key(state.saga_id, name),
                                  dict(state.data))
                try:
                    self._call(step.compensation, ctx, step.timeout_s)
                except Exception as exc:
                    state = self._append(state, "compensation_failed", name, attempt, _describe(exc))
                    if attempt <= self.compensation_retries:
                        self._sleep(self.backoff.delay(attempt, self._rng))
                        continue
                    return self._append(
                        state, "needs_attention", name, attempt,
                        f"compensation {step.undo_name!r} failed {attempt} times, last: {_describe(exc)}. "
                        "Fix the cause, then call Orchestrator.retry_compensations(saga_id).",
                    )
                self._crash_point(f"after {step.undo_name}")
                state = self._append(state, "compensation_succeeded", name, attempt)
                break
        self._crash_point("before compensated")
        return self._append(state, "saga_compensated")
