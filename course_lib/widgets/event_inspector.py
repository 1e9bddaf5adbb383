"""Notebook 01's event inspector: pick an event, see its JSON and its envelope metadata side by side.

State lives on :class:`EventInspector` (the envelopes and the selected index); the ipywidgets view mirrors it.
The "try to edit it" button attempts to change a field of the selected event and logs the refusal: events are
facts, and the frozen model will not let anyone rewrite one.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets
from pydantic import ValidationError

from course_lib.messages import Envelope, to_dict

_META_ORDER = ("type", "message_id", "schema_version", "occurred_at", "correlation_id", "causation_id",
               "stream_id", "stream_version", "position")


def short_id(value: Any) -> str:
    """The last 4 hex digits of a UUID (enough to tell the course's sequential ids apart), or '—'."""
    return "—" if value is None else "…" + str(value)[-4:]


class EventInspector:
    """Browse envelopes; ``select(i)`` is what picking from the dropdown does."""

    def __init__(self, envelopes: Sequence[Envelope[Any]]) -> None:
        if not envelopes:
            raise ValueError("EventInspector needs at least one envelope to show")
        self.envelopes = list(envelopes)
        self.index = 0
        self.edit_attempts: list[str] = []  # what each "try to edit it" click was told
        self.picker = widgets.Dropdown(options=[(self.label(i), i) for i in range(len(self.envelopes))],
                                       value=0, description="event", layout=widgets.Layout(width="420px"))
        self.picker.add_class("course-event-picker")
        self.edit = widgets.Button(description="try to edit it", icon="pencil", tooltip="change a field of the fact")
        self.edit.add_class("course-event-edit")
        self.json_view = widgets.HTML()
        self.json_view.add_class("course-event-json")
        self.meta_view = widgets.HTML()
        self.meta_view.add_class("course-event-metadata")
        self.log = widgets.Output()
        self.picker.observe(self._on_pick, names="value")
        self.edit.on_click(lambda _b: self.try_to_edit())
        self.view = widgets.VBox([widgets.HBox([self.picker, self.edit]),
                                  widgets.HBox([self.json_view, self.meta_view]), self.log])
        self.view.add_class("course-event-inspector")
        self._render()

    def label(self, index: int) -> str:
        env = self.envelopes[index]
        meta = env.metadata
        where = "" if not meta.stream_id else (
            f" ({meta.stream_id} v{meta.stream_version})" if meta.stream_version else f" ({meta.stream_id})")
        return f"{index + 1}. {env.type}{where}"

    @property
    def selected(self) -> Envelope[Any]:
        return self.envelopes[self.index]

    @property
    def json_text(self) -> str:
        """The selected envelope as stored and sent: indented JSON."""
        return json.dumps(to_dict(self.selected), indent=2, ensure_ascii=False)

    def metadata_rows(self) -> list[tuple[str, str]]:
        """(field, value) pairs of the selected envelope's metadata, ids shortened, causation explained."""
        meta = self.selected.metadata
        rows = []
        for name in _META_ORDER:
            value = getattr(meta, name)
            shown = short_id(value) if name.endswith("_id") and name != "stream_id" else (
                "—" if value is None else str(value))
            rows.append((name, shown))
        parent = self.cause_of(self.index)
        rows.append(("caused by", f"{parent + 1}. {self.envelopes[parent].type}" if parent is not None
                     else "nothing (it starts the conversation)"))
        return rows

    def cause_of(self, index: int) -> int | None:
        """The index of the envelope whose message caused this one, if it is in the list."""
        causation = self.envelopes[index].metadata.causation_id
        return next((i for i, e in enumerate(self.envelopes) if e.message_id == causation), None)

    def select(self, index: int) -> Envelope[Any]:
        """Show envelope ``index`` (what the dropdown does); returns it."""
        self.picker.value = index  # triggers _on_pick, exactly like a pick in the browser
        return self.selected

    def try_to_edit(self) -> str:
        """Try to change the first field of the selected event; log and return what the model answered."""
        message = self.selected.message
        field = next(iter(type(message).model_fields))
        try:
            setattr(message, field, "changed")
            outcome = f"{self.selected.type}.{field} was changed — this event is not immutable!"
        except ValidationError as exc:
            outcome = f"refused: {self.selected.type}.{field} cannot change ({exc.errors()[0]['type']})"
        self.edit_attempts.append(outcome)
        self.log.append_stdout(outcome + "\n")
        return outcome

    def _on_pick(self, change: dict[str, Any]) -> None:
        self.index = int(change["new"])
        self._render()

    def _render(self) -> None:
        self.json_view.value = (f"<pre data-type='{html.escape(self.selected.type)}' style='font-size:12px'>"
                                f"{html.escape(self.json_text)}</pre>")
        rows = "".join(f"<tr><th style='text-align:left'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
                       for k, v in self.metadata_rows())
        self.meta_view.value = f"<table class='course-metadata'>{rows}</table>"

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        bundle: dict[str, Any] | None = self.view._repr_mimebundle_(**kwargs)
        return bundle
