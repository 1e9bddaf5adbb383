"""Notebook 04's dashboard: issue commands from buttons and watch the write side and the read side move apart.

State lives on :class:`CqrsDashboard`: the command bus writes to the event store, the projector follows it at
its own pace (one batch per "project" click, or all the way with "catch up"), and the panels show the log's head,
the projector's checkpoint and lag, and the read model as the query bus answers it. "rebuild" replays the whole
log into an emptied read model. Every button is a method, so a cell can drive the dashboard exactly like clicks.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets

from course_lib.buses import CommandBus, QueryBus
from course_lib.projections.projector import Projector
from course_lib.shop.commands import AddItem, PlaceOrder, SubmitOrder
from course_lib.shop.projections import ListOrders, OrderSummary


@dataclass(frozen=True)
class DashboardState:
    """What the dashboard shows: the write side's head, the read side's checkpoint, and the read model."""

    head: int
    checkpoint: int
    lag: int
    orders: list[OrderSummary]
    alarm: str | None = None  # the projector's alarm (e.g. waiting long at a gap whose writer is still open)


class CqrsDashboard:
    """Buttons for the shop's commands and the projector; panels for log, checkpoint, lag and read model."""

    def __init__(self, commands: CommandBus, queries: QueryBus, projector: Projector, *, tail: int = 8,
                 step: int = 3) -> None:
        self.commands = commands
        self.queries = queries
        self.projector = projector
        self.store = projector.store
        self.tail = tail
        self.step = step  # events applied per "project" click
        self._next_order = 1
        self.current_order: str | None = None
        self.customer = widgets.Dropdown(options=["ada", "grace", "linus"], value="ada", description="customer",
                                         layout={"width": "200px"})
        self.place_button = widgets.Button(description="place order", icon="plus", button_style="primary")
        self.add_button = widgets.Button(description="add mug (12.50)", icon="coffee")
        self.submit_button = widgets.Button(description="submit order", icon="check")
        self.project_button = widgets.Button(description=f"project {step}", icon="step-forward")
        self.catch_up_button = widgets.Button(description="catch up", icon="fast-forward")
        self.rebuild_button = widgets.Button(description="rebuild", icon="refresh", button_style="warning")
        for name in ("place", "add", "submit", "project", "catch_up", "rebuild"):
            getattr(self, f"{name}_button").add_class(f"course-cqrs-{name.replace('_', '-')}")
        self.status_view = widgets.HTML()
        self.log_view = widgets.HTML()
        self.model_view = widgets.HTML()
        self.output = widgets.Output()
        self.place_button.on_click(lambda _b: self._safely(lambda: self.place_order(self.customer.value)))
        self.add_button.on_click(lambda _b: self._safely(lambda: self.add_item()))
        self.submit_button.on_click(lambda _b: self._safely(self.submit_order))
        self.project_button.on_click(lambda _b: self._safely(self.project))
        self.catch_up_button.on_click(lambda _b: self._safely(self.catch_up))
        self.rebuild_button.on_click(lambda _b: self._safely(self.rebuild))
        self.view = widgets.VBox([
            widgets.HBox([self.customer, self.place_button, self.add_button, self.submit_button]),
            widgets.HBox([self.project_button, self.catch_up_button, self.rebuild_button]),
            self.status_view,
            widgets.HBox([self.log_view, self.model_view]),
            self.output,
        ])
        self.refresh()

    # ------------------------------------------------------------------------------------------- actions

    def place_order(self, customer: str = "ada") -> str:
        """Dispatch ``PlaceOrder`` for a new order id; it becomes the current order."""
        while True:  # skip ids already taken in this store (e.g. by cells above)
            order_id = f"d{self._next_order}"
            self._next_order += 1
            if self.store.stream_version(f"order-{order_id}") == 0:
                break
        result = self.commands.dispatch(PlaceOrder(order_id=order_id, customer_id=customer))
        self.current_order = order_id
        self._say(f"PlaceOrder {order_id} for {customer} → position {result.position}")
        return order_id

    def add_item(self, sku: str = "mug", quantity: int = 1, unit_price_cents: int = 1250) -> int:
        """Dispatch ``AddItem`` on the current order; returns the position it reached."""
        order_id = self._current()
        result = self.commands.dispatch(AddItem(order_id=order_id, sku=sku, quantity=quantity,
                                                unit_price_cents=unit_price_cents))
        self._say(f"AddItem {sku} x{quantity} to {order_id} → position {result.position}")
        return result.position

    def submit_order(self) -> int:
        """Dispatch ``SubmitOrder`` on the current order; returns the position it reached."""
        order_id = self._current()
        result = self.commands.dispatch(SubmitOrder(order_id=order_id))
        self._say(f"SubmitOrder {order_id} (total {result.value / 100:.2f}) → position {result.position}")
        self.current_order = None
        return result.position

    def project(self) -> int:
        """Let the projector apply up to ``step`` events (one batch); returns how many it applied."""
        applied = self.projector.catch_up(max_events=self.step, progress=False)
        self._say(f"projector applied {applied} event(s); checkpoint {self.projector.position}")
        return applied

    def catch_up(self) -> int:
        """Let the projector apply everything up to the head."""
        applied = self.projector.catch_up(progress=False)
        self._say(f"projector caught up: {applied} event(s); checkpoint {self.projector.position}")
        return applied

    def rebuild(self) -> int:
        """Empty the read model and replay the whole log."""
        applied = self.projector.rebuild(progress=False)
        self._say(f"rebuilt {self.projector.name} from {applied} event(s)")
        return applied

    # --------------------------------------------------------------------------------------------- state

    def state(self) -> DashboardState:
        """The numbers and rows the panels show."""
        head = self.store.last_position()
        return DashboardState(head, self.projector.position, max(0, head - self.projector.position),
                              self.queries.ask(ListOrders()), self.projector.status().alarm)

    def refresh(self) -> DashboardState:
        """Redraw the panels from the store, the projector and the query bus."""
        state = self.state()
        self.status_view.value = (
            f"<b>write side</b>: log head at position <b>{state.head}</b> &nbsp;·&nbsp; "
            f"<b>read side</b>: checkpoint <b>{state.checkpoint}</b> &nbsp;·&nbsp; "
            f"lag <b style='color:{'#cf222e' if state.lag else '#1a7f37'}'>{state.lag}</b>"
        ) + (f"<div style='color:#cf222e'><b>projector alarm</b>: {html.escape(state.alarm)}</div>"
             if state.alarm else "")
        start = max(1, state.head - self.tail + 1)
        rows = "".join(
            f"<tr style='color:{'#1a7f37' if (e.metadata.position or 0) <= state.checkpoint else '#57606a'}'>"
            f"<td>{e.metadata.position}</td><td>{html.escape(e.type)}</td>"
            f"<td>{html.escape(e.metadata.stream_id or '')}</td></tr>"
            for e in self.store.read_all(start, self.tail)
        )
        self.log_view.value = ("<div style='margin-right:24px'><b>event log (tail)</b> — green: projected"
                               f"<table><tr><th>pos</th><th>type</th><th>stream</th></tr>{rows}</table></div>")
        orders = "".join(
            f"<tr><td>{html.escape(o.order_id)}</td><td>{html.escape(o.customer_id)}</td><td>{o.status}</td>"
            f"<td style='text-align:right'>{o.item_count}</td>"
            f"<td style='text-align:right'>{o.total_cents / 100:.2f}</td></tr>"
            for o in state.orders[-self.tail:]
        )
        self.model_view.value = ("<div><b>read model: order summaries</b><table><tr><th>order</th><th>customer</th>"
                                 f"<th>status</th><th>items</th><th>total</th></tr>{orders}</table></div>")
        return state

    def _current(self) -> str:
        if self.current_order is None:
            raise ValueError("no current order: click 'place order' first")
        return self.current_order

    def _say(self, line: str) -> None:
        self.output.append_stdout(line + "\n")
        self.refresh()

    def _safely(self, action: Any) -> None:
        """Run a button's action; a rejected command is shown in the output, not raised into the event loop."""
        try:
            action()
        except Exception as exc:
            self.output.append_stdout(f"rejected: {type(exc).__name__}: {exc}\n")
