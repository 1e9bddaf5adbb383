"""The backlog lab: a producer and a slow consumer at rates you set, the queue's depth over time, and an alert.

State lives on :class:`BacklogLab`. A :class:`PacedPublisher` and a :class:`PacedConsumer` (prefetch-bounded)
work one queue; a sampler thread reads the depth twice per tick — exactly with a passive declare (the ready
count) and from the management API (ready and unacked, *sampled* by the broker every few seconds) — and feeds
the exact depth (ready + the consumer's unacked) to a :class:`course_lib.backlog.BacklogAlert` with the rule you
give it. The chart draws both readings, so the management API's steps and lag are visible next to the exact line.
Cells drive it like the sliders do: ``lab.set_rates(producer=…, consumer=…)``.
"""

from __future__ import annotations

import html
import threading
import time
from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets

from course_lib.backlog import BacklogAlert, BacklogRule, DepthSample, Rule
from course_lib.errors import describe_error
from course_lib.messaging.rabbitmq.admin import management_depth, passive_depth
from course_lib.messaging.rabbitmq.connection import RabbitConnection
from course_lib.messaging.rabbitmq.load import PacedConsumer, PacedPublisher


@dataclass(frozen=True)
class LabPoint:
    """One tick: seconds since start, the exact ready count and unacked, and what the management API said."""

    t: float
    ready: int
    unacked: int
    api_ready: int | None
    api_unacked: int | None


class BacklogLab:
    """Producer → ``queue`` → slow consumer, sampled every ``interval`` seconds; ``rule`` decides the alert."""

    def __init__(self, queue: str, *, url: str | None = None, producer_rate: float = 40, consumer_rate: float = 40,
                 prefetch: int = 10, rule: Rule | None = None, window_s: float = 2.0, interval: float = 0.25,
                 max_rate: int = 200) -> None:
        self.queue = queue
        self.url = url
        self.prefetch = prefetch
        self.interval = interval
        self.window_s = window_s
        self.rule: Rule = rule or BacklogRule()
        self.alert = BacklogAlert(self.rule, window_s=window_s, min_span_s=min(1.0, window_s))
        self.points: list[LabPoint] = []
        self.producer_rate = producer_rate
        self.consumer_rate = consumer_rate
        self.publisher: PacedPublisher | None = None
        self.consumer: PacedConsumer | None = None
        self.error: str | None = None
        self._stop = threading.Event()
        self._sampler: threading.Thread | None = None
        self._t0 = time.monotonic()
        self._lock = threading.Lock()

        self.producer_slider = widgets.IntSlider(value=int(producer_rate), min=0, max=max_rate, step=5,
                                                 description="produce /s")
        self.consumer_slider = widgets.IntSlider(value=int(consumer_rate), min=0, max=max_rate, step=5,
                                                 description="consume /s")
        self.run_button = widgets.Button(description="start", icon="play", button_style="primary")
        self.chart = widgets.HTML()
        self.status = widgets.HTML()
        self.log = widgets.Output()
        self.producer_slider.add_class("course-backlog-producer")
        self.consumer_slider.add_class("course-backlog-consumer")
        self.run_button.add_class("course-backlog-run")
        self.chart.add_class("course-backlog-chart")
        self.status.add_class("course-backlog-alert")
        self.log.add_class("course-backlog-log")
        self.producer_slider.observe(lambda c: self.set_rates(producer=c["new"]), names="value")
        self.consumer_slider.observe(lambda c: self.set_rates(consumer=c["new"]), names="value")
        self.run_button.on_click(lambda _b: self.stop() if self.running else self.start())
        self.view = widgets.VBox([widgets.HBox([self.producer_slider, self.consumer_slider, self.run_button]),
                                  self.status, self.chart, self.log])
        self.view.add_class("course-backlog-lab")
        self.render()

    # ---- lifecycle ---------------------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """Whether the sampler (and so the producer and consumer) runs."""
        return self._sampler is not None and self._sampler.is_alive()

    def start(self) -> BacklogLab:
        """Start the producer, the consumer and the sampler (a new run: the chart and alert start empty)."""
        if self.running:
            return self
        self.alert = BacklogAlert(self.rule, window_s=self.window_s, min_span_s=min(1.0, self.window_s))
        self.points = []
        self.error = None
        self._t0 = time.monotonic()
        self.publisher = PacedPublisher(self.queue, self.producer_rate, url=self.url).start()
        self.consumer = PacedConsumer(self.queue, self.consumer_rate, url=self.url, prefetch=self.prefetch).start()
        self._stop.clear()
        self._sampler = threading.Thread(target=self._sample_loop, name=f"backlog-lab-{self.queue}", daemon=True)
        self._sampler.start()
        self.run_button.description, self.run_button.icon = "stop", "stop"
        self.log.append_stdout(f"started: producing {self.producer_rate:g}/s, consuming {self.consumer_rate:g}/s\n")
        return self

    def stop(self) -> None:
        """Stop sampling, the producer and the consumer (its unacked messages go back to the queue)."""
        self._stop.set()
        if self._sampler is not None:
            self._sampler.join(5)
        for part in (self.publisher, self.consumer):
            if part is not None:
                try:
                    part.stop()
                except Exception as exc:  # shown, not raised: stopping must always finish
                    self.error = describe_error(exc)
        self.run_button.description, self.run_button.icon = "start", "play"
        self.log.append_stdout("stopped\n")
        self.render()

    def set_rates(self, *, producer: float | None = None, consumer: float | None = None) -> None:
        """Change the producer's and/or the consumer's rate (messages per second), live."""
        if producer is not None:
            self.producer_rate = producer
            if self.publisher is not None:
                self.publisher.set_rate(producer)
        if consumer is not None:
            self.consumer_rate = consumer
            if self.consumer is not None:
                self.consumer.set_rate(consumer)
        self.log.append_stdout(f"rates: produce {self.producer_rate:g}/s, consume {self.consumer_rate:g}/s\n")

    def set_rule(self, rule: Rule) -> None:
        """Use ``rule`` (a ``Trend -> reason or None`` callable) from the next sample on."""
        self.rule = rule
        self.alert.rule = rule

    # ---- sampling ----------------------------------------------------------------------------------------------
    def _sample_loop(self) -> None:
        conn = RabbitConnection(self.url, name=f"backlog-lab-sampler-{self.queue}")
        try:
            while not self._stop.is_set():
                self.sample(conn)
                self._stop.wait(self.interval)
        except Exception as exc:  # shown in the widget; the lab stops sampling
            self.error = describe_error(exc)
            self.render()
        finally:
            conn.close()

    def sample(self, conn: RabbitConnection) -> LabPoint:
        """Read the depth both ways, feed the alert, redraw; returns the new point."""
        exact = passive_depth(conn, self.queue)
        api_ready: int | None = None
        api_unacked: int | None = None
        try:
            api = management_depth(self.queue, timeout=1.0)
            api_ready, api_unacked = api.ready, api.unacked
        except Exception:  # the management API is optional: the exact line still stands
            pass
        unacked = len(self.consumer.held) if self.consumer is not None else 0
        now = time.monotonic()
        point = LabPoint(round(now - self._t0, 2), exact.ready, unacked, api_ready, api_unacked)
        with self._lock:
            was = self.alert.firing
            self.points.append(point)
            reason = self.alert.add(DepthSample(now - self._t0, exact.ready, unacked))
        if reason is not None and not was:
            self.log.append_stdout(f"{point.t:6.1f}s ALERT: {reason}\n")
        elif reason is None and was:
            self.log.append_stdout(f"{point.t:6.1f}s alert cleared\n")
        self.render()
        return point

    # ---- drawing -----------------------------------------------------------------------------------------------
    def render(self) -> None:
        """Redraw the alert line and the chart."""
        with self._lock:
            points = list(self.points[-240:])
            reason, trend = self.alert.reason, self.alert.last
        if self.error:
            state, text, colour = "error", f"sampling stopped: {self.error}", "#cf222e"
        elif reason is not None:
            state, text, colour = "firing", f"ALERT FIRING — {reason}", "#cf222e"
        else:
            state, text, colour = "ok", "alert ok", "#1a7f37"
        detail = ""
        if trend is not None:
            drain = "∞" if trend.drain_s == float("inf") else f"{trend.drain_s:.1f}s"
            detail = f" · depth {trend.depth} · net {trend.growth_per_s:+.1f}/s · drains in {drain}"
        self.status.value = (f"<span data-alert='{state}' style='color:{colour};font-weight:bold'>"
                             f"{html.escape(text)}</span><span>{html.escape(detail)}</span>")
        self.chart.value = _svg(points)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        bundle: dict[str, Any] | None = self.view._repr_mimebundle_(**kwargs)
        return bundle


SERIES = (("ready (passive declare, exact)", "#0969da"), ("unacked (in the consumer)", "#bf8700"),
          ("ready (management API, sampled)", "#8250df"))


def _svg(points: list[LabPoint], width: int = 560, height: int = 180) -> str:
    """Three lines over time: exact ready, unacked, and the management API's ready (dashed, stepped)."""
    if not points:
        return "<div data-points='0' style='color:#666'>press start (or call lab.start()) to draw the backlog</div>"
    t0, t1 = points[0].t, max(points[-1].t, points[0].t + 1)
    top = max(10, *(max(p.ready, p.unacked, p.api_ready or 0) for p in points))

    def xy(t: float, v: float) -> str:
        return f"{40 + (t - t0) / (t1 - t0) * (width - 50):.1f},{height - 20 - v / top * (height - 30):.1f}"

    lines = [
        (SERIES[0], [xy(p.t, p.ready) for p in points], ""),
        (SERIES[1], [xy(p.t, p.unacked) for p in points], ""),
        (SERIES[2], [xy(p.t, p.api_ready) for p in points if p.api_ready is not None], "stroke-dasharray='5,3'"),
    ]
    drawn = "".join(f"<polyline fill='none' stroke='{colour}' stroke-width='2' {dash} points='{' '.join(pts)}'/>"
                    for (_label, colour), pts, dash in lines if pts)
    legend = " ".join(f"<span style='color:{colour}'>■ {html.escape(label)}</span>" for label, colour in SERIES)
    axes = (f"<text x='2' y='14' font-size='11'>{top}</text><text x='2' y='{height - 20}' font-size='11'>0</text>"
            f"<text x='{width - 60}' y='{height - 4}' font-size='11'>{t1 - t0:.0f}s</text>")
    return (f"<div data-points='{len(points)}'><svg width='{width}' height='{height}' "
            f"style='background:#fafafa'>{axes}{drawn}</svg><div style='font-size:12px'>{legend}</div></div>")
