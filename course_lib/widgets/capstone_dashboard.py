"""Notebook 13's dashboard: throughput, queue depth and consumer lag of the running shop, live.

State lives on :class:`CapstoneDashboard`: a history of ``Metrics`` samples taken from a probe (the shop's
``metrics``). A background sampler thread calls ``sample()`` every ``interval`` seconds until ``stop()``; the
view's widgets are only written through ``_render`` (ipywidgets values may be set from any thread, and the
log uses ``Output.append_stdout``). The chaos buttons call the actions given to the dashboard, so a notebook
cell can do exactly what a click does and assert what the dashboard shows.
"""

from __future__ import annotations

import html
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from course_lib.capstone.system import Metrics

SPARK = " ▁▂▃▄▅▆▇█"


def sparkline(values: list[float]) -> str:
    """Values as a row of block characters, scaled to the largest."""
    top = max(values, default=0.0)
    if top <= 0:
        return SPARK[1] * len(values)
    return "".join(SPARK[max(1, round(v / top * (len(SPARK) - 1)))] for v in values)


class CapstoneDashboard:
    """Samples a probe, keeps the history, shows the latest numbers and a throughput sparkline."""

    def __init__(self, probe: Callable[[], Metrics], *, interval: float = 0.2, history: int = 60,
                 actions: dict[str, Callable[[], object]] | None = None) -> None:
        if interval <= 0:
            raise ValueError(f"interval must be positive, got {interval}")
        self.probe = probe
        self.interval = interval
        self.samples: deque[Metrics] = deque(maxlen=history)
        self.rates: deque[float] = deque(maxlen=history)
        self.peaks = {"events_per_s": 0.0, "queue_depth": 0, "projector_lag": 0, "kafka_lag": 0}
        self.actions = dict(actions or {})
        self.clicks: list[str] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._build_view()

    # -- state ----------------------------------------------------------------------------------------------

    def sample(self) -> Metrics:
        """Take one sample now and show it."""
        metrics = self.probe()
        with self._lock:
            previous = self.samples[-1] if self.samples else None
            rate = 0.0
            if previous is not None and metrics.at > previous.at:
                rate = (metrics.events - previous.events) / (metrics.at - previous.at)
            self.samples.append(metrics)
            self.rates.append(rate)
            self.peaks["events_per_s"] = max(self.peaks["events_per_s"], round(rate, 1))
            self.peaks["queue_depth"] = max(self.peaks["queue_depth"], metrics.queue_ready + metrics.queue_unacked)
            self.peaks["projector_lag"] = max(self.peaks["projector_lag"], metrics.projector_lag)
            self.peaks["kafka_lag"] = max(self.peaks["kafka_lag"], metrics.kafka_lag)
        self._render()
        return metrics

    @property
    def latest(self) -> Metrics | None:
        with self._lock:
            return self.samples[-1] if self.samples else None

    def shown(self) -> dict[str, Any]:
        """What the numbers panel shows, as data (what the notebook and the tests assert)."""
        latest = self.latest
        if latest is None:
            return {}
        return {"events": latest.events, "events_per_s": round(self.rates[-1], 1),
                "queue_depth": latest.queue_ready + latest.queue_unacked,
                "projector_lag": latest.projector_lag, "kafka_lag": latest.kafka_lag, "samples": len(self.samples)}

    # -- the sampler thread ---------------------------------------------------------------------------------

    def start(self) -> CapstoneDashboard:
        """Sample in the background every ``interval`` seconds until ``stop()``."""
        if self._thread is not None and self._thread.is_alive():
            return self
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="capstone-dashboard", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.sample()
            except Exception as exc:  # a failed probe (a broker restarting) is shown, and sampling goes on
                self.out.append_stdout(f"sample failed: {type(exc).__name__}: {exc}\n")
            self._stop.wait(self.interval)  # the sampling period; stop() ends it at once

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the sampler and wait for it."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- actions --------------------------------------------------------------------------------------------

    def click(self, name: str) -> object:
        """Run a chaos action (what its button does), log it, and sample."""
        if name not in self.actions:
            raise KeyError(f"no action {name!r}; the dashboard has {sorted(self.actions)}")
        result = self.actions[name]()
        self.clicks.append(name)
        self.out.append_stdout(f"{name}: done\n")
        self.sample()
        return result

    # -- the view -------------------------------------------------------------------------------------------

    def _build_view(self) -> None:
        self.numbers = widgets.HTML(value="<i>no sample yet</i>")
        self.spark = widgets.HTML(value="")
        self.out = widgets.Output(layout=widgets.Layout(max_height="120px", overflow="auto"))
        self.sample_button = widgets.Button(description="Sample now", icon="refresh")
        self.sample_button.on_click(lambda _b: self.sample())
        self.buttons = {}
        for name in self.actions:
            button = widgets.Button(description=name, button_style="danger")
            button.on_click(lambda _b, name=name: self.click(name))
            self.buttons[name] = button
        self.widget = widgets.VBox([
            widgets.HTML("<b>Shop dashboard</b> — throughput, saga queue depth, consumer lag"),
            self.numbers, self.spark,
            widgets.HBox([self.sample_button, *self.buttons.values()]), self.out,
        ])
        self.widget.add_class("course-capstone-dashboard")
        self.numbers.add_class("course-capstone-numbers")
        self.out.add_class("course-capstone-log")

    def _render(self) -> None:
        shown = self.shown()
        if not shown:
            return
        rows = "".join(
            f"<tr><td>{html.escape(label)}</td><td class='{key}' style='text-align:right'><b>{shown[key]}</b></td>"
            f"<td style='color:#57606a'>{'peak ' + str(self.peaks[key]) if key in self.peaks else ''}</td></tr>"
            for key, label in (("events", "events stored"), ("events_per_s", "events / s"),
                               ("queue_depth", "saga queue depth"), ("projector_lag", "projector lag"),
                               ("kafka_lag", "analytics lag (Kafka)")))
        self.numbers.value = f"<table>{rows}</table>"
        with self._lock:
            rates = list(self.rates)
        self.spark.value = f"<code>throughput {html.escape(sparkline(rates))}</code> ({shown['samples']} samples)"
