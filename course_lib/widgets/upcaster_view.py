"""Notebook 11's upcaster view: pick a stored event and watch it pass through each upcaster to today's schema.

State lives on :class:`UpcasterView`: the stored rows, the selected one, its stages (``course_lib.versioning
.upcast_stages``) and whether the final form loads into today's classes. The HTML is only a rendering of that
state, so the notebook (and the unit tests) can drive the picker from code and assert what it shows.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets
from pydantic import ValidationError

from course_lib.errors import CourseError
from course_lib.messages import RawEvent, Registry
from course_lib.versioning import StoredRow, UpcastStage, upcast_stages

_ADDED = "background:#dafbe1"  # green: the step added this field (or renamed into it)
_CHANGED = "background:#fff8c5"  # yellow: the step changed this field's value


class UpcasterView:
    """A dropdown of stored events and, for the selected one, every stage of its upcaster chain."""

    def __init__(self, rows: Sequence[StoredRow], registry: Registry) -> None:
        if not rows:
            raise ValueError("UpcasterView needs at least one stored event: write some events to the store first")
        self.rows = list(rows)
        self.registry = registry
        self.index = 0
        self.stages: list[list[UpcastStage]] = []
        self.picker = widgets.Dropdown(options=[(row.label, i) for i, row in enumerate(self.rows)],
                                       value=0, description="stored", layout={"width": "520px"})
        self.picker.add_class("course-upcaster-picker")
        self.stages_view = widgets.HTML()
        self.stages_view.add_class("course-upcaster-stages")
        self.output = widgets.Output()
        self.picker.observe(lambda change: self.select(change["new"]), names="value")
        self.view = widgets.VBox([self.picker, self.stages_view, self.output])
        self.view.add_class("course-upcaster-view")
        self.select(0)

    @property
    def selected(self) -> StoredRow:
        """The stored row being shown."""
        return self.rows[self.index]

    def select(self, which: int | str) -> list[str]:
        """Show the row at index ``which`` (or the row whose label starts with it); returns ``summary()``."""
        index = which if isinstance(which, int) else self._find(which)
        if not 0 <= index < len(self.rows):
            raise IndexError(f"no stored event #{index}: pick 0 … {len(self.rows) - 1}")
        if self.picker.value != index:
            self.picker.value = index  # the observer calls select(index) again, which does the work once
            return self.summary()
        self.index = index
        self.stages = upcast_stages(self.selected.raw, self.registry)
        self._render()
        self.output.append_stdout(f"{self.selected.label}: {' ⇒ '.join(self.summary())} · {self.result()}\n")
        return self.summary()

    def summary(self) -> list[str]:
        """One line per stage: ``OrderItemAdded v2 (+currency)``; a split stage lists each event."""
        lines = []
        for number, stage in enumerate(self.stages):
            parts = []
            for item in stage:
                label = f"{item.event.type} v{item.event.schema_version}"
                if number and item.parent is not item.event:
                    label += f" ({item.changes.describe()})"
                parts.append(label)
            lines.append(" + ".join(parts))
        return lines

    def highlighted(self) -> list[list[set[str]]]:
        """For each stage and event, the fields the step that produced it added, renamed into or changed."""
        return [[item.changes.touched for item in stage] for stage in self.stages]

    def final(self) -> list[RawEvent]:
        """The selected event's current form: what today's code receives."""
        return [item.event for item in self.stages[-1]]

    def result(self) -> str:
        """Whether the final form loads into today's classes — ``loads as …`` or why it does not."""
        names = []
        for raw in self.final():
            try:
                cls = self.registry.resolve(raw.type)
                cls.model_validate(raw.data)
            except CourseError as exc:
                return f"does not load: {exc}"
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(part) for part in first["loc"]) or "(payload)"
                return f"does not load: {raw.type}.{where}: {first['msg']}"
            if cls.schema_version != raw.schema_version:
                return (f"does not load: {raw.type} is schema v{raw.schema_version} but today's class is "
                        f"v{cls.schema_version}; register the missing upcaster")
            names.append(cls.__name__)
        return "loads as " + " + ".join(names)

    def _find(self, prefix: str) -> int:
        for i, row in enumerate(self.rows):
            if row.label.startswith(prefix):
                return i
        raise KeyError(f"no stored event labelled {prefix!r}; labels look like {self.rows[0].label!r}")

    def _render(self) -> None:
        columns = []
        for number, stage in enumerate(self.stages):
            cards = "".join(self._card(item, first=number == 0) for item in stage)
            title = "stored" if number == 0 else f"after step {number}"
            columns.append(f"<div style='margin-right:12px' data-stage='{number}'><b>{title}</b>{cards}</div>")
        ok = self.result().startswith("loads")
        verdict = (f"<div data-result='{'ok' if ok else 'error'}' style='color:{'#1a7f37' if ok else '#cf222e'}'>"
                   f"{html.escape(self.result())}</div>")
        self.stages_view.value = (f"<div data-stages='{len(self.stages)}' style='display:flex;align-items:flex-start'>"
                                  f"{''.join(columns)}</div>{verdict}")

    @staticmethod
    def _card(item: UpcastStage, *, first: bool) -> str:
        touched_added = set(item.changes.added) | {new for _old, new in item.changes.renamed}
        lines = []
        for key, value in item.event.data.items():
            style = _ADDED if key in touched_added else _CHANGED if key in item.changes.changed else ""
            lines.append(f"<span style='{style}' data-field='{html.escape(key)}'>  {html.escape(json.dumps(key))}: "
                         f"{html.escape(json.dumps(value))}</span>")
        for key in item.changes.removed:
            lines.append(f"<span style='color:#cf222e;text-decoration:line-through'>  {html.escape(json.dumps(key))}"
                         "</span>")
        note = "" if first or item.parent is item.event else (
            f"<div style='color:#57606a'>{html.escape(item.changes.describe())}</div>")
        return (f"<div style='border:1px solid #d0d7de;padding:4px;margin-top:4px'>"
                f"<code>{html.escape(item.event.type)} v{item.event.schema_version}</code>{note}"
                f"<pre style='margin:0'>{{\n" + ",\n".join(lines) + "\n}</pre></div>")

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        bundle: dict[str, Any] | None = self.view._repr_mimebundle_(**kwargs)
        return bundle
