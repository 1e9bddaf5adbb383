"""The revenue chart: revenue per event-time window as bars, top products, late events — and a grace slider.

State lives on :class:`RevenueChart`: final window totals (from ``WindowResult`` callbacks), provisional totals
of open windows, and the late-event count. Moving the slider replays the recorded events through a fresh
aggregator with that grace period (Kafka Streams' word; Flink's bounded out-of-orderness), so a learner sees how
grace trades completeness against delay. A cell can call ``chart.replay(grace_ms)`` exactly as the slider does.
"""

from __future__ import annotations

import html
import threading
from typing import Any

import ipywidgets as widgets

from course_lib.streams import HoppingWindows, WindowedAggregator, WindowResult, top_keys


class RevenueChart:
    """Bars per window (final ones solid, provisional ones pale) and the top products."""

    def __init__(self, windows: HoppingWindows, *, grace_ms: int = 0, title: str = "revenue",
                 inputs: int = 1) -> None:
        self.windows = windows
        self.inputs = inputs  # partitions feeding the chart: the replay's watermark waits for all of them
        self.title = title
        self.final: dict[int, dict[str, float]] = {}  # window start → product → cents
        self.provisional: dict[int, dict[str, float]] = {}
        self.late = 0
        self.events: list[tuple[int, str, float, int]] = []  # what was seen (with its partition), for replays
        self._lock = threading.Lock()
        self.slider = widgets.IntSlider(value=grace_ms // 1000, min=0, max=120, step=1,
                                        description="grace (s)", continuous_update=False)
        self.chart = widgets.HTML()
        self.log = widgets.Output()
        self.slider.observe(self._on_slider, names="value")
        self.view = widgets.VBox([self.chart, self.slider, self.log])
        self.view.add_class("course-revenue-lab")
        self.chart.add_class("course-revenue-bars")
        self.slider.add_class("course-revenue-grace")
        self.log.add_class("course-revenue-log")
        self.render()

    # ---- feeding ----------------------------------------------------------------------------------------------
    def on_result(self, result: WindowResult[str]) -> None:
        """A window became final (use as the aggregator's / job's ``on_result`` callback)."""
        with self._lock:
            self.final.setdefault(result.window.start_ms, {})[result.key] = result.total
            self.provisional.pop(result.window.start_ms, None)
        self.render()

    def observe(self, aggregator: WindowedAggregator[str]) -> None:
        """Copy the aggregator's open windows and late count (call after each batch for a live view)."""
        with self._lock:
            self.provisional = {w.start_ms: dict(keys) for w, keys in aggregator.open_totals().items()}
            self.late = aggregator.late
        self.render()

    def record(self, event_ms: int, product: str, cents: float, source: int = 0) -> None:
        """Remember an event (and the partition it came from) so the slider can replay it in arrival order."""
        with self._lock:
            self.events.append((event_ms, product, cents, source))

    # ---- what-if: another grace period ----------------------------------------------------------------------
    def replay(self, grace_ms: int) -> dict[str, Any]:
        """Recompute every window from the recorded events with this grace period; returns the outcome."""
        aggregator: WindowedAggregator[str] = WindowedAggregator(self.windows, grace_ms=grace_ms,
                                                                 inputs=self.inputs)
        with self._lock:
            events = list(self.events)
        for event_ms, product, cents, source in events:
            aggregator.add(event_ms, product, cents, source=source)
        late = aggregator.late
        aggregator.flush()
        with self._lock:
            self.final = {}
            for r in aggregator.emitted:
                self.final.setdefault(r.window.start_ms, {})[r.key] = r.total
            self.provisional = {}
            self.late = late
        self.render()
        counted = sum(r.total for r in aggregator.emitted)
        outcome = {"grace_ms": grace_ms, "late": late, "counted_cents": counted,
                   "windows": len(self.final)}
        self.log.append_stdout(f"grace {grace_ms / 1000:g}s: {late} late event(s), "
                               f"{counted / 100:,.2f} counted in windows\n")
        return outcome

    def _on_slider(self, change: dict[str, Any]) -> None:
        try:
            self.replay(int(change["new"]) * 1000)
        except Exception as exc:  # a slider must report, not raise into the front end
            self.log.append_stdout(f"{type(exc).__name__}: {exc}\n")

    # ---- reading ----------------------------------------------------------------------------------------------
    def window_totals(self, include_provisional: bool = False) -> dict[int, float]:
        """Revenue (cents) per window start."""
        with self._lock:
            totals = {start: sum(p.values()) for start, p in self.final.items()}
            if include_provisional:
                for start, p in self.provisional.items():
                    totals.setdefault(start, sum(p.values()))
        return dict(sorted(totals.items()))

    def top_products(self, n: int = 3) -> list[tuple[str, float]]:
        """Products by final revenue across all windows."""
        with self._lock:
            totals: dict[str, float] = {}
            for products in self.final.values():
                for product, cents in products.items():
                    totals[product] = totals.get(product, 0) + cents
        return top_keys(totals, n)

    def html(self) -> str:
        final = self.window_totals()
        with self._lock:
            provisional = {s: sum(p.values()) for s, p in self.provisional.items() if s not in final}
        everything = {**{s: (v, True) for s, v in final.items()}, **{s: (v, False) for s, v in provisional.items()}}
        peak = max((v for v, _ in everything.values()), default=0.0) or 1.0
        rows = []
        for start, (value, is_final) in sorted(everything.items()):
            width = int(300 * value / peak)
            colour = "#0969da" if is_final else "#9cc4f3"
            label = "" if is_final else " (open)"
            rows.append(f"<tr><td>{start / 1000:g}s</td><td><span style='display:inline-block;height:12px;"
                        f"width:{width}px;background:{colour}'></span> {value / 100:,.2f}{label}</td></tr>")
        top = ", ".join(f"{html.escape(p)} {c / 100:,.2f}" for p, c in self.top_products())
        return (f"<div class='course-revenue-chart'><b>{html.escape(self.title)}</b> per "
                f"{self.windows.size_ms / 1000:g}s window · late events: <b>{self.late}</b>"
                f"<table cellpadding='2'>{''.join(rows)}</table><div>top products: {top or '–'}</div></div>")

    def render(self) -> None:
        self.chart.value = self.html()
