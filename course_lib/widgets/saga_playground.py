"""Notebook 09's widget: pick which step of the order saga fails and how, run it, watch the diagram light up.

State lives on :class:`SagaPlayground` (the runs so far, the last saga state); the ipywidgets view mirrors it.
``run(step, fault)`` is what the button calls, so a notebook cell can drive the widget exactly like a click and
assert what it shows. Each run uses a fresh shop, and a saga log in a SQLite file; a ``crash`` fault kills the
orchestrator mid-saga and the playground resumes the saga from the log with a new orchestrator.
"""

from __future__ import annotations

import html
import tempfile
from dataclasses import dataclass
from pathlib import Path

import ipywidgets as widgets

from course_lib.sagas import MermaidDiagram, Orchestrator, SagaState, SQLiteSagaLog, run_mermaid
from course_lib.shop.saga import ORDER_STEPS, order_data, order_saga
from course_lib.shop.services import FAULT_KINDS, FaultKind, Shop, SimulatedCrash

OPERATIONS = {
    "reserve_inventory": "inventory.reserve",
    "charge_payment": "payment.charge",
    "create_shipment": "shipping.create_shipment",
    "send_notification": "notifications.send",
}
UNDO_OPERATIONS = ("inventory.release", "payment.refund", "shipping.cancel_shipment")
NO_FAILURE = "(none)"


@dataclass(frozen=True)
class PlaygroundRun:
    """One run: what was injected, whether the orchestrator crashed, and where the saga ended."""

    number: int
    step: str
    fault: str
    crashed: bool
    state: SagaState
    shop: Shop

    def summary(self) -> str:
        """One line for the log."""
        crash = "crashed, resumed from the log, " if self.crashed else ""
        undone = ", ".join(self.state.compensated) or "nothing"
        return (f"run {self.number}: {self.fault} at {self.step} → {crash}{self.state.status} "
                f"(done: {', '.join(self.state.completed) or 'nothing'}; compensated: {undone})")


class SagaPlayground:
    """Run the order saga with one injected fault at a time."""

    def __init__(self, directory: str | Path | None = None, *, seed: int = 0) -> None:
        self._tmp = tempfile.TemporaryDirectory() if directory is None else None
        self.directory = Path(directory or self._tmp.name)  # type: ignore[union-attr]
        self.seed = seed
        self.runs: list[PlaygroundRun] = []
        self.step_picker = widgets.Dropdown(options=[NO_FAILURE, *ORDER_STEPS], value="charge_payment",
                                            description="fail step")
        self.fault_picker = widgets.Dropdown(options=list(FAULT_KINDS), value="declined", description="how")
        self.undo_fails = widgets.Checkbox(value=False, description="compensations fail too")
        self.button = widgets.Button(description="run saga", icon="play", button_style="primary")
        self.button.on_click(lambda _b: self.run(self.step_picker.value, self.fault_picker.value,
                                                 undo_fails=self.undo_fails.value))
        self.status = widgets.HTML()
        self.diagram = widgets.Output()
        self.log = widgets.Output()
        controls = widgets.HBox([self.step_picker, self.fault_picker, self.undo_fails, self.button])
        self.view = widgets.VBox([controls, self.status, self.diagram, self.log])
        for w, css in ((self.view, "course-saga-playground"), (self.status, "course-saga-status"),
                       (self.diagram, "course-saga-diagram"), (self.log, "course-saga-log")):
            w.add_class(css)

    @property
    def last(self) -> PlaygroundRun | None:
        return self.runs[-1] if self.runs else None

    def run(self, step: str = NO_FAILURE, fault: FaultKind | str = "declined", *,
            undo_fails: bool = False) -> PlaygroundRun:
        """Run one saga with ``fault`` injected at ``step``; update the view; return the run.

        ``undo_fails`` makes every compensation fail too, so the saga ends in ``needs_attention``.
        """
        if step != NO_FAILURE and step not in OPERATIONS:
            raise ValueError(f"step must be one of {', '.join(OPERATIONS)} or {NO_FAILURE!r}, got {step!r}")
        if fault not in FAULT_KINDS:
            raise ValueError(f"fault must be one of {', '.join(FAULT_KINDS)}, got {fault!r}")
        number = len(self.runs) + 1
        shop = Shop.seeded(self.seed)
        if step != NO_FAILURE:
            # a crash strikes once (the process dies); the other faults persist for the whole run
            once = fault in {"crash", "timeout"}
            shop.faults.fail(OPERATIONS[step], fault, times=1 if once else None)  # type: ignore[arg-type]
        if undo_fails:
            for operation in UNDO_OPERATIONS:
                shop.faults.fail(operation, "unavailable", times=None)
        saga = order_saga(shop)
        log = SQLiteSagaLog(self.directory / "playground-sagas.db")
        crashed = False
        saga_id = f"run-{number}"
        try:
            try:
                state = Orchestrator(saga, log, sleep=lambda _: None).start(saga_id, order_data(f"o-{number}"))
            except SimulatedCrash:
                crashed = True
                state = Orchestrator(saga, log, sleep=lambda _: None).resume(saga_id)
        finally:
            log.close()
        result = PlaygroundRun(number, step, fault if step != NO_FAILURE else "no fault", crashed, state, shop)
        self.runs.append(result)
        self._render(result)
        return result

    def mermaid(self) -> str:
        """The last run's path as Mermaid source (empty before the first run)."""
        last = self.last
        return run_mermaid(order_saga(last.shop), last.state) if last else ""

    def _render(self, run: PlaygroundRun) -> None:
        colour = {"completed": "#1a7f37", "compensated": "#9a6700"}.get(run.state.status, "#cf222e")
        self.status.value = (f"<b style='color:{colour}'>{html.escape(run.state.status)}</b> "
                             f"{html.escape(run.state.error)}")
        self.diagram.clear_output()
        self.diagram.append_display_data(MermaidDiagram(self.mermaid()))
        self.log.append_stdout(run.summary() + "\n")

    def close(self) -> None:
        """Remove the temporary directory (if the playground made one)."""
        if self._tmp is not None:
            self._tmp.cleanup()
