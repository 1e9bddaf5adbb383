"""Notebook 02's live view of an event store: its streams with their versions, and the tail of the global log.

State lives on :class:`StoreView`. ``refresh()`` is a catch-up read: it asks the store only for events after the
last position it has seen, exactly like a subscriber, and the "append an item" button writes a real event to
the store so the learner watches it appear.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets

from course_lib.eventstore.base import EventStore
from course_lib.messages import Envelope, Message
from course_lib.shop.events import OrderItemAdded


class StoreView:
    """Streams and global log of ``store``; ``tail`` rows of the log are shown."""

    def __init__(self, store: EventStore, *, tail: int = 12, page_size: int = 500) -> None:
        self.store = store
        self.tail = tail
        self.page_size = page_size
        self.position = 0  # the last global position this view has read
        self.versions: dict[str, int] = {}  # stream id → version, from the events read so far
        self.log: list[Envelope[Message]] = []
        self.reads = 0  # how many pages the catch-up reads fetched
        self.refresh_button = widgets.Button(description="refresh", icon="refresh", button_style="primary")
        self.refresh_button.add_class("course-store-refresh")
        self.stream_picker = widgets.Text(value="order-demo", description="stream", layout={"width": "260px"},
                                          continuous_update=True)
        self.stream_picker.add_class("course-store-stream")
        self.append_button = widgets.Button(description="append an item", icon="plus")
        self.append_button.add_class("course-store-append")
        self.streams_view = widgets.HTML()
        self.streams_view.add_class("course-store-streams")
        self.log_view = widgets.HTML()
        self.log_view.add_class("course-store-log")
        self.output = widgets.Output()
        self.refresh_button.on_click(lambda _b: self.refresh())
        self.append_button.on_click(lambda _b: self.append_item(self.stream_picker.value))
        self.view = widgets.VBox([
            widgets.HBox([self.refresh_button, self.stream_picker, self.append_button]),
            widgets.HBox([self.streams_view, self.log_view]), self.output,
        ])
        self.view.add_class("course-store-view")
        self.refresh()

    def refresh(self) -> int:
        """Read the events after the last seen position (in pages) and redraw; returns how many were new."""
        new = 0
        while page := self.store.read_all(from_position=self.position + 1, limit=self.page_size):
            self.reads += 1
            for env in page:
                self.versions[env.metadata.stream_id or "?"] = env.metadata.stream_version or 0
                self.position = env.metadata.position or self.position
            self.log.extend(page)
            new += len(page)
        self._render()
        if new:
            self.output.append_stdout(f"read {new} new event(s); now at position {self.position}\n")
        return new

    def append_item(self, stream_id: str, sku: str = "sticker") -> int:
        """Append an ``OrderItemAdded`` to ``stream_id`` (expecting its current version), then refresh."""
        version = self.store.stream_version(stream_id)
        order_id = stream_id.removeprefix("order-")
        result = self.store.append(
            stream_id, [OrderItemAdded(order_id=order_id, sku=sku, quantity=1, unit_price_cents=150)], version)
        self.output.append_stdout(f"appended {stream_id} v{result.stream_version} at position {result.position}\n")
        self.refresh()
        return result.position

    def rows(self) -> list[tuple[int, str, int, str]]:
        """The shown tail of the global log: (position, stream, version, type)."""
        return [(e.metadata.position or 0, e.metadata.stream_id or "", e.metadata.stream_version or 0, e.type)
                for e in self.log[-self.tail:]]

    def _render(self) -> None:
        streams = "".join(f"<tr><td>{html.escape(s)}</td><td style='text-align:right'>{v}</td></tr>"
                          for s, v in sorted(self.versions.items()))
        self.streams_view.value = (
            f"<table data-streams='{len(self.versions)}' style='margin-right:2em'>"
            f"<tr><th>stream</th><th>version</th></tr>{streams}</table>")
        log = "".join(f"<tr><td style='text-align:right'>{p}</td><td>{html.escape(s)}</td><td>v{v}</td>"
                      f"<td>{html.escape(t)}</td></tr>" for p, s, v, t in self.rows())
        self.log_view.value = (
            f"<table data-position='{self.position}'><tr><th>position</th><th>stream</th><th>version</th>"
            f"<th>type</th></tr>{log}</table>"
            + (f"<i>… and {len(self.log) - self.tail} earlier</i>" if len(self.log) > self.tail else ""))

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        bundle: dict[str, Any] | None = self.view._repr_mimebundle_(**kwargs)
        return bundle
