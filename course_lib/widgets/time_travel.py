"""Notebook 03's time-travel slider: an aggregate's state at every version of its stream, and the event that made it.

State lives on :class:`TimeTravel`: the history and the state after each event (computed once, by applying the
events one by one — the same fold the repository does). Moving the slider only picks a version.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets

from course_lib.aggregates import Aggregate
from course_lib.messages import Envelope, Event


class TimeTravel:
    """A slider over ``aggregate_type``'s history; ``go_to(version)`` is what moving the slider does."""

    def __init__(self, aggregate_type: type[Aggregate], aggregate_id: str,
                 history: Sequence[Envelope[Any] | Event]) -> None:
        if not history:
            raise ValueError("TimeTravel needs at least one event")
        self.events: list[Event] = [h.message if isinstance(h, Envelope) else h for h in history]
        aggregate = aggregate_type(aggregate_id)
        self.states: list[dict[str, Any]] = []  # states[v - 1] is the state after version v
        for event in self.events:
            aggregate.apply(event)
            self.states.append(json.loads(json.dumps(aggregate.snapshot_state())))  # a deep copy, JSON-shaped
        self.version = len(self.events)
        self.slider = widgets.IntSlider(value=self.version, min=1, max=len(self.events), description="version",
                                        continuous_update=True, layout={"width": "500px"})
        self.slider.add_class("course-time-slider")
        self.event_view = widgets.HTML()
        self.event_view.add_class("course-time-event")
        self.state_view = widgets.HTML()
        self.state_view.add_class("course-time-state")
        self.slider.observe(self._on_change, names="value")
        self.view = widgets.VBox([self.slider, widgets.HBox([self.event_view, self.state_view])])
        self.view.add_class("course-time-travel")
        self._render()

    @property
    def state(self) -> dict[str, Any]:
        """The state after the selected version."""
        return self.states[self.version - 1]

    @property
    def event(self) -> Event:
        """The event that produced the selected version."""
        return self.events[self.version - 1]

    def go_to(self, version: int) -> dict[str, Any]:
        """Move the slider from code; returns the state at ``version``."""
        if not 1 <= version <= len(self.events):
            raise ValueError(f"version must be between 1 and {len(self.events)}, got {version}")
        self.slider.value = version  # triggers _on_change, exactly like a drag in the browser
        return self.state

    def changed_fields(self) -> list[str]:
        """The state fields the selected event changed."""
        before = self.states[self.version - 2] if self.version > 1 else {}
        return [k for k, v in self.state.items() if before.get(k) != v]

    def _on_change(self, change: dict[str, Any]) -> None:
        self.version = int(change["new"])
        self._render()

    def _render(self) -> None:
        event = self.event
        fields = "".join(f"<li>{html.escape(k)} = {html.escape(repr(v))}</li>" for k, v in event)
        self.event_view.value = (f"<div data-version='{self.version}'><b>v{self.version}: "
                                 f"{html.escape(type(event).__name__)}</b><ul>{fields}</ul></div>")
        changed = set(self.changed_fields())
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
            f"<td style='{'background:#fff3b0' if k in changed else ''}'>{html.escape(json.dumps(v))}</td></tr>"
            for k, v in self.state.items())
        self.state_view.value = f"<table data-status='{html.escape(str(self.state.get('status')))}'>{rows}</table>"

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        bundle: dict[str, Any] | None = self.view._repr_mimebundle_(**kwargs)
        return bundle
