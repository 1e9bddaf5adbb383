"""The doctor panel: the pre-flight table plus a "check again" button.

State lives on :class:`DoctorPanel` (the last report and how many checks ran); the ipywidgets view only mirrors
it. A learner who starts a service clicks "check again" and watches the row turn green; a cell can do the same
with ``panel.check_again()``, which is what the button calls.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from course_lib.config import Settings
from course_lib.ops.doctor import DoctorReport, run_doctor


class DoctorPanel:
    """The doctor's table, re-run on demand. ``run`` is injectable so tests need no services."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        run: Callable[[Settings | None], DoctorReport] = run_doctor,
        check_now: bool = True,
    ) -> None:
        self.settings = settings
        self._run = run
        self.report: DoctorReport | None = None
        self.runs = 0
        self.last_duration_s: float | None = None
        self.button = widgets.Button(description="check again", icon="refresh", button_style="primary",
                                     tooltip="Run the pre-flight checks again")
        self.button.add_class("course-doctor-check-again")
        self.status = widgets.HTML()
        self.status.add_class("course-doctor-status")
        self.table = widgets.HTML()
        self.table.add_class("course-doctor-table")
        self.log = widgets.Output()
        self.button.on_click(self._on_click)
        self.view = widgets.VBox([widgets.HBox([self.button, self.status]), self.table, self.log])
        self.view.add_class("course-doctor-panel")
        self._render()
        if check_now:
            self.check_again()

    def check_again(self) -> DoctorReport:
        """Run every check, update the table, append one line to the log; returns the new report."""
        self.button.disabled = True
        self.button.description = "checking…"
        started = time.perf_counter()
        try:
            report = self._run(self.settings)
        finally:
            self.button.disabled = False
            self.button.description = "check again"
        self.last_duration_s = time.perf_counter() - started
        self.report = report
        self.runs += 1
        self._render()
        self.log.append_stdout(self.summary() + "\n")
        return report

    def summary(self) -> str:
        """One line: which check this was, how many services are ready, and what is red."""
        if self.report is None:
            return "not checked yet"
        ready = [r for r in self.report.results if r.ok]
        red = [r.service for r in self.report.results if not r.ok and r.required]
        tail = "all required services ready" if self.report.ok else "not ready: " + ", ".join(red)
        return f"check #{self.runs}: {len(ready)}/{len(self.report.results)} services reachable — {tail}"

    def services(self) -> list[str]:
        """The service names in the current table, in order."""
        return [r.service for r in self.report.results] if self.report else []

    def _render(self) -> None:
        if self.report is None:
            self.table.value = "<i>not checked yet</i>"
            self.status.value = ""
            return
        took = ""
        if self.last_duration_s is not None:
            seconds = self.last_duration_s
            took = f" in {seconds * 1000:.0f} ms" if seconds < 1 else f" in {seconds:.1f} s"
        colour = "#1a7f37" if self.report.ok else "#cf222e"
        self.status.value = (
            f"<span data-run='{self.runs}' style='color:{colour}'>check #{self.runs}{took}: "
            f"{'ready' if self.report.ok else 'something is red — see the fix column'}</span>"
        )
        self.table.value = self.report._repr_html_()

    def _on_click(self, _button: widgets.Button) -> None:
        self.check_again()

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        bundle: dict[str, Any] | None = self.view._repr_mimebundle_(**kwargs)
        return bundle
