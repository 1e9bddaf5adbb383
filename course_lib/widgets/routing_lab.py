"""Notebook 05's topology and traffic view: the exchanges, queues and bindings as a diagram, a form to publish
a message with a routing key (and headers), and which queues received it, with their depths.

State lives on :class:`RoutingLab`. ``publish`` compares two answers: what the topology description *predicts*
(``Topology.route``) and what the broker *did* (the queues whose exact depth grew by one). The two agree unless
the description and the broker disagree — which is exactly what the lesson wants the learner to notice.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

import ipywidgets as widgets
from IPython.display import Markdown

from course_lib.messages import envelope
from course_lib.messaging.rabbitmq import Publisher, RabbitConnection, Topology, Unroutable, drain, queue_depth
from course_lib.messaging.rabbitmq.admin import QueueDepth
from course_lib.shop.events import NotificationSent, OrderCreated


@dataclass(frozen=True)
class RoutingResult:
    """One publish: where the description said it would go and where the broker put it."""

    exchange: str
    routing_key: str
    headers: dict[str, Any] = field(default_factory=dict)
    predicted: frozenset[str] = frozenset()
    received: frozenset[str] = frozenset()
    returned: bool = False

    @property
    def agrees(self) -> bool:
        """True when the broker did what the description predicts."""
        return self.predicted == self.received


class RoutingLab:
    """Publish to ``topology``'s exchanges and see which of its queues received each message."""

    def __init__(self, conn: RabbitConnection, topology: Topology) -> None:
        self.conn = conn
        self.topology = topology
        self.publisher = Publisher(conn, mandatory=True)
        self.history: list[RoutingResult] = []
        self.exchange_picker = widgets.Dropdown(options=[e.name for e in topology.exchanges], description="exchange",
                                                layout={"width": "360px"})
        self.key_input = widgets.Text(value="order.created", description="routing key", layout={"width": "300px"})
        self.header_input = widgets.Text(value="", placeholder="channel=email", description="headers",
                                         layout={"width": "300px"})
        self.publish_button = widgets.Button(description="publish", icon="paper-plane", button_style="primary")
        self.publish_button.add_class("course-routing-publish")
        self.refresh_button = widgets.Button(description="refresh depths", icon="refresh")
        self.empty_button = widgets.Button(description="empty queues", icon="trash")
        self.result_view = widgets.HTML()
        self.result_view.add_class("course-routing-result")
        self.depth_view = widgets.HTML()
        self.depth_view.add_class("course-routing-depths")
        self.diagram = widgets.Output()
        self.output = widgets.Output()
        self.publish_button.on_click(lambda _b: self._publish_from_form())
        self.refresh_button.on_click(lambda _b: self.render_depths())
        self.empty_button.on_click(lambda _b: self.empty())
        diagram = Markdown(f"```mermaid\n{topology.mermaid()}\n```")  # type: ignore[no-untyped-call]
        self.diagram.append_display_data(diagram)
        rows = "".join(
            f"<tr><td>{html.escape(b.exchange)}</td>"
            f"<td><code>{html.escape(b.routing_key or str(dict(b.arguments)) or '(all)')}</code></td>"
            f"<td>{html.escape(b.queue)}</td></tr>" for b in topology.bindings)
        # the same topology as a table, for front ends that do not render Mermaid
        self.bindings_view = widgets.HTML(
            f"<details><summary>bindings as a table</summary><table><tr><th>exchange</th><th>binding key</th>"
            f"<th>queue</th></tr>{rows}</table></details>")
        self.view = widgets.VBox([
            self.diagram, self.bindings_view,
            widgets.HBox([self.exchange_picker, self.key_input, self.header_input]),
            widgets.HBox([self.publish_button, self.refresh_button, self.empty_button]),
            widgets.HBox([self.result_view, self.depth_view]), self.output,
        ])
        self.render_depths()

    def depths(self) -> dict[str, QueueDepth]:
        """Every queue of the topology with its current depth."""
        return {q.name: queue_depth(self.conn, q.name) for q in self.topology.queues}

    def publish(self, exchange: str, routing_key: str, headers: dict[str, Any] | None = None) -> RoutingResult:
        """Publish one shop event to ``exchange`` and report predicted vs. actual receiving queues."""
        headers = dict(headers or {})
        before = {name: d.ready for name, d in self.depths().items()}
        message = (NotificationSent(order_id="o-1", channel=str(headers.get("channel", "email")), text="hello")
                   if self.topology.exchange(exchange).type == "headers"
                   else OrderCreated(order_id="o-1", customer_id="c-1"))
        returned = False
        try:
            self.publisher.publish(envelope(message), routing_key, headers=headers, exchange=exchange)
        except Unroutable:
            returned = True
        after = self.depths()  # confirmed publish: the queues already hold it
        received = frozenset(name for name, d in after.items() if d.ready > before[name])
        result = RoutingResult(exchange, routing_key, headers,
                               frozenset(self.topology.route(exchange, routing_key, headers)), received, returned)
        self.history.append(result)
        self._render_result(result)
        self._render_depths(after)
        return result

    def empty(self) -> int:
        """Take every message out of the topology's queues (bounded); returns how many were removed."""
        removed = sum(len(drain(self.conn, q.name)) for q in self.topology.queues)
        self.output.append_stdout(f"removed {removed} message(s)\n")
        self.render_depths()
        return removed

    def render_depths(self) -> dict[str, QueueDepth]:
        """Read and show the queue depths."""
        depths = self.depths()
        self._render_depths(depths)
        return depths

    def _publish_from_form(self) -> None:
        headers = dict(part.split("=", 1) for part in self.header_input.value.split(",") if "=" in part)
        result = self.publish(self.exchange_picker.value, self.key_input.value.strip(),
                              {k.strip(): v.strip() for k, v in headers.items()})
        self.output.append_stdout(
            f"{result.routing_key or '(no key)'} → {sorted(result.received) or 'no queue (returned)'}\n")

    def _render_result(self, result: RoutingResult) -> None:
        names = "".join(f"<li>{html.escape(q)}</li>" for q in sorted(result.received)) or "<li><b>none</b></li>"
        verdict = "as the bindings predict" if result.agrees else f"predicted {sorted(result.predicted)}"
        self.result_view.value = (
            f"<div data-received='{len(result.received)}'><b>{html.escape(result.routing_key or '(no key)')}</b> "
            f"via {html.escape(result.exchange)} reached:<ul>{names}</ul><i>{html.escape(verdict)}"
            f"{' — returned to the publisher (mandatory)' if result.returned else ''}</i></div>")

    def _render_depths(self, depths: dict[str, QueueDepth]) -> None:
        rows = "".join(
            f"<tr><td>{html.escape(name)}</td><td style='text-align:right'>{d.ready}</td>"
            f"<td style='text-align:right'>{'' if d.unacked is None else d.unacked}</td></tr>"
            for name, d in depths.items())
        self.depth_view.value = (f"<table><tr><th>queue</th><th>ready</th><th>unacked</th></tr>{rows}</table>")

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        bundle: dict[str, Any] | None = self.view._repr_mimebundle_(**kwargs)
        return bundle
