"""Notebook 06's failure-injection panel: a worker with retries and a dead-letter queue, and knobs to hurt it.

State lives on :class:`FailurePanel`: a failure rate for the handler (a seeded random generator, so a run is
repeatable), a button that sends a poison message (always fails), and one that kills the consumer's connection
the hard way (the broker redelivers its unacked messages to the replacement worker). Counts of processed,
retried and dead-lettered messages add up over every worker the panel started. A worker that stopped on its own
shows as stopped, with its error, until "kill consumer" starts a new one.
"""

from __future__ import annotations

import html
import random
import threading
from typing import Any

import ipywidgets as widgets

from course_lib.errors import WorkerFailed, describe_error
from course_lib.messages import envelope
from course_lib.messaging.rabbitmq import (
    Delivery,
    Publisher,
    RabbitConnection,
    RetryPolicy,
    Worker,
    dead_letter_queue,
    passive_depth,
)
from course_lib.shop.events import OrderCreated

POISON = "poison"


class FailurePanel:
    """Drive a worker on ``queue`` (declared with ``retry_topology(queue, policy)``) and watch what it does."""

    def __init__(self, conn: RabbitConnection, queue: str, policy: RetryPolicy, *, failure_rate: float = 0.0,
                 seed: int = 7, prefetch: int = 10) -> None:
        self.conn = conn
        self.queue = queue
        self.policy = policy
        self.failure_rate = failure_rate
        self.prefetch = prefetch
        self.kills = 0
        self.failures: list[str] = []  # errors of workers that stopped on their own, oldest first
        self.effects: dict[str, int] = {}  # order id → times the handler took effect (idempotent: at most 1)
        self.duplicates = 0
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._sent = 0
        self._finished: list[dict[str, int]] = []  # stats of workers that were killed or stopped
        self.publisher = Publisher(conn)
        self.worker = self._new_worker()
        self.rate_slider = widgets.FloatSlider(value=failure_rate, min=0, max=1, step=0.05,
                                               description="failure rate", readout_format=".0%")
        self.send_button = widgets.Button(description="send 10 orders", icon="paper-plane", button_style="primary")
        self.poison_button = widgets.Button(description="send poison", icon="skull-crossbones",
                                            button_style="warning")
        self.kill_button = widgets.Button(description="kill consumer", icon="bolt", button_style="danger")
        self.refresh_button = widgets.Button(description="refresh", icon="refresh")
        for button, name in ((self.send_button, "send"), (self.poison_button, "poison"),
                             (self.kill_button, "kill"), (self.refresh_button, "refresh")):
            button.add_class(f"course-failure-{name}")
        self.counts_view = widgets.HTML()
        self.counts_view.add_class("course-failure-counts")
        self.status_view = widgets.HTML()
        self.status_view.add_class("course-failure-status")
        self.output = widgets.Output()
        self.rate_slider.observe(lambda change: self.set_failure_rate(change["new"]), names="value")
        self.send_button.on_click(lambda _b: self.send(10))
        self.poison_button.on_click(lambda _b: self.send_poison())
        self.kill_button.on_click(lambda _b: self.kill_consumer())
        self.refresh_button.on_click(lambda _b: self.render())
        self.view = widgets.VBox([
            self.rate_slider, widgets.HBox([self.send_button, self.poison_button, self.kill_button,
                                            self.refresh_button]), self.status_view, self.counts_view, self.output])
        self.render()

    # ---- the handler the worker runs ---------------------------------------------------------------------------
    def handle(self, delivery: Delivery) -> None:
        """Fail for poison messages and at ``failure_rate``; otherwise take effect once per order."""
        order_id = str(getattr(delivery.message, "order_id", ""))
        with self._lock:
            unlucky = self._random.random() < self.failure_rate
        if order_id == POISON:
            raise ValueError("poison message: this order can never be processed")
        if unlucky:
            raise ConnectionError("injected failure (the payment service timed out)")
        with self._lock:
            if order_id in self.effects:
                self.duplicates += 1  # a redelivery of work already done: absorbed
            else:
                self.effects[order_id] = 1

    # ---- knobs ------------------------------------------------------------------------------------------------
    def set_failure_rate(self, rate: float) -> None:
        """Make the handler fail on this fraction of messages (0–1)."""
        if not 0 <= rate <= 1:
            raise ValueError("failure rate must be between 0 and 1")
        with self._lock:
            self.failure_rate = rate
        self.output.append_stdout(f"failure rate now {rate:.0%}\n")

    def send(self, n: int) -> int:
        """Publish ``n`` new orders to the work queue."""
        start = self._sent
        self._sent += n
        self.publisher.publish_many(
            [(envelope(OrderCreated(order_id=f"order-{i}", customer_id="c")), self.queue)
             for i in range(start, start + n)])
        self.output.append_stdout(f"sent {n} order(s)\n")
        self.render()
        return n

    def send_poison(self) -> None:
        """Publish a message the handler always rejects: it is retried, then parked in the dead-letter queue."""
        self.publisher.publish(envelope(OrderCreated(order_id=POISON, customer_id="c")), self.queue)
        self.output.append_stdout("sent a poison message\n")
        self.render()

    def kill_consumer(self) -> None:
        """Drop the worker's connection without a goodbye, then start a replacement (which gets the unacked)."""
        try:
            self.worker.kill()
        except WorkerFailed as exc:  # it had already stopped on its own: keep the reason, replace it anyway
            self.failures.append(describe_error(exc.cause))
        self._finished.append(self.worker.stats.as_dict())
        self.kills += 1
        self.worker = self._new_worker()
        self.output.append_stdout("killed the consumer's connection; a new consumer took over\n")
        self.render()

    def stop(self) -> None:
        """Stop the worker (call this before leaving the notebook)."""
        self.worker.stop()

    # ---- what it shows ----------------------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        """Processed, retried, dead-lettered … summed over every worker, plus queue depths."""
        totals: dict[str, int] = {}
        for stats in [*self._finished, self.worker.stats.as_dict()]:
            for key, value in stats.items():
                totals[key] = totals.get(key, 0) + value
        totals["sent"] = self._sent
        totals["kills"] = self.kills
        totals["orders_done"] = len(self.effects)
        totals["duplicates_absorbed"] = self.duplicates
        totals["ready"] = passive_depth(self.conn, self.queue).ready
        totals["in_dlq"] = passive_depth(self.conn, dead_letter_queue(self.queue)).ready
        return totals

    def status(self) -> str:
        """``running``, or ``stopped: <why>`` for a worker that stopped on its own (what the panel shows)."""
        error = self.worker.error
        if error is not None:
            return f"stopped: {describe_error(error)}"
        return "running" if self.worker.running else "stopped"

    def render(self) -> dict[str, int]:
        """Redraw the status and the counts; returns the counts."""
        status = self.status()
        colour = "#1a7f37" if status == "running" else "#cf222e"
        self.status_view.value = (f"<span data-status='{'running' if status == 'running' else 'stopped'}' "
                                  f"style='color:{colour}'>worker {html.escape(status)}</span>")
        counts = self.counts()
        shown = ("sent", "processed", "retried", "dead_lettered", "redelivered", "orders_done",
                 "duplicates_absorbed", "ready", "in_dlq", "kills")
        cells = "".join(f"<td data-count='{k}' style='text-align:right;padding:0 8px'>{counts[k]}</td>"
                        for k in shown)
        heads = "".join(f"<th style='padding:0 8px'>{html.escape(k.replace('_', ' '))}</th>" for k in shown)
        self.counts_view.value = f"<table><tr>{heads}</tr><tr>{cells}</tr></table>"
        return counts

    def _new_worker(self) -> Worker:
        return Worker(self.queue, self.handle, url=self.conn.url, retry=self.policy, prefetch=self.prefetch,
                      name=f"panel-{self.queue}").start()

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        bundle: dict[str, Any] | None = self.view._repr_mimebundle_(**kwargs)
        return bundle
