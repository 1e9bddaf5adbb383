"""Notebook 14's performance lab: pick a scenario and a setting, run it against the real services, and watch the
result join the chart next to the settings measured before.

State lives on :class:`PerfLabWidget` (``history``: one :class:`LabPoint` per run). The measuring itself is a
function ``(scenario, setting) -> LabPoint`` — by default :func:`live_measure` on a :class:`PerfLab` — so the
widget can be tested with a fake measurer and no services.
"""

from __future__ import annotations

import html
import io
from collections.abc import Callable
from dataclasses import dataclass

import ipywidgets as widgets
from IPython.display import SVG

from course_lib.perf import percentile, throughput
from course_lib.perf.scenarios import PerfLab


@dataclass(frozen=True)
class LabPoint:
    """One measurement: which scenario and setting, the median value and its unit, and the runs behind it."""

    scenario: str
    setting: str
    value: float
    unit: str
    runs: int

    @property
    def higher_is_better(self) -> bool:
        """Throughputs (``…/s``) are better high; latencies are better low."""
        return self.unit.endswith("/s")


SCENARIOS: dict[str, list[str]] = {
    "event store append": ["1 per transaction, FULL", "100 per transaction, FULL", "1 per transaction, NORMAL",
                           "1 per transaction, OFF"],
    "RabbitMQ publish": ["no confirms", "confirm each", "confirm batch"],
    "RabbitMQ consume": ["prefetch 1", "prefetch 10", "prefetch 100"],
    "Kafka produce": ["linger 0 ms, batch 16 KiB", "linger 20 ms, batch 16 KiB", "linger 0 ms, batch 256 B",
                      "linger 5 ms, batch 128 KiB"],
    "Kafka round trip p95": ["linger 0 ms", "linger 5 ms", "linger 20 ms"],
    "projection rebuild": ["batch 1", "batch 100", "batch 1000"],
}
"""Every scenario with the settings the widget offers (the first setting is the default)."""

Measurer = Callable[[str, str], LabPoint]


def _number(text: str) -> int:
    return int(text.split()[0])


def live_measure(lab: PerfLab, *, scale: int = 1, repeats: int = 3) -> Measurer:
    """A measurer running the real workloads of ``lab``; ``scale`` multiplies every size (FULL_SIZE runs)."""

    def measure(scenario: str, setting: str) -> LabPoint:
        if setting not in SCENARIOS.get(scenario, []):
            raise ValueError(f"unknown scenario/setting {scenario!r}/{setting!r}; pick one of {SCENARIOS}")
        if scenario == "Kafka round trip p95":
            samples = lab.kafka_round_trips(40 * scale, linger_ms=_number(setting.removeprefix("linger ")))
            return LabPoint(scenario, setting, percentile(samples, 95) * 1000, "ms", len(samples))
        unit = "events/s"
        if scenario == "event store append":
            per_tx = _number(setting)
            work = lab.eventstore_append((100 if per_tx == 1 else 2000) * scale, per_transaction=per_tx,
                                         synchronous=setting.split(", ")[1])
        elif scenario == "RabbitMQ publish":
            unit = "messages/s"
            work = lab.rabbit_publish((200 if setting == "confirm each" else 1000) * scale, setting)  # type: ignore[arg-type]
        elif scenario == "RabbitMQ consume":
            unit = "messages/s"
            work = lab.rabbit_consume(500 * scale, prefetch=_number(setting.removeprefix("prefetch ")))
        elif scenario == "Kafka produce":
            unit = "records/s"
            linger, batch = setting.split(", ")
            size, suffix = batch.removeprefix("batch ").split()
            work = lab.kafka_produce(2000 * scale, linger_ms=_number(linger.removeprefix("linger ")),
                                     batch_size=int(size) * (1024 if suffix == "KiB" else 1))
        else:
            per_batch = _number(setting.removeprefix("batch "))
            work = lab.projection_rebuild((500 if per_batch == 1 else 5000) * scale, batch_size=per_batch)
        result = throughput(setting, work, repeats=repeats, warmup=1)
        return LabPoint(scenario, setting, result.median, unit, len(result.runs))

    return measure


class PerfLabWidget:
    """Choose a scenario and a setting, press run: the median joins the table and the scenario's bar chart."""

    def __init__(self, measure: Measurer) -> None:
        self.measure = measure
        self.history: list[LabPoint] = []
        self.scenario_picker = widgets.Dropdown(options=list(SCENARIOS), description="scenario",
                                                layout={"width": "320px"})
        self.setting_picker = widgets.Dropdown(options=SCENARIOS[str(self.scenario_picker.value)],
                                               description="setting", layout={"width": "320px"})
        self.run_button = widgets.Button(description="run", icon="play", button_style="primary")
        self.run_button.add_class("course-perf-run")
        self.status = widgets.HTML("pick a scenario and a setting, then press run")
        self.status.add_class("course-perf-status")
        self.table_view = widgets.HTML()
        self.table_view.add_class("course-perf-table")
        self.chart = widgets.Output()
        self.chart.add_class("course-perf-chart")
        self.scenario_picker.observe(lambda _change: self._scenario_changed(), names="value")
        self.run_button.on_click(lambda _b: self._run_from_form())
        self.view = widgets.VBox([
            widgets.HBox([self.scenario_picker, self.setting_picker, self.run_button]),
            self.status, self.table_view, self.chart,
        ])
        self.view.add_class("course-perf-lab")
        self.render()

    def _scenario_changed(self) -> None:
        self.setting_picker.options = SCENARIOS[str(self.scenario_picker.value)]
        self.setting_picker.value = SCENARIOS[str(self.scenario_picker.value)][0]
        self.render()

    def _run_from_form(self) -> None:
        scenario, setting = str(self.scenario_picker.value), str(self.setting_picker.value)
        self.status.value = f"running {html.escape(scenario)} / {html.escape(setting)} …"
        try:
            self.run(scenario, setting)
        except Exception as exc:  # a broker that is down must show up in the widget, not kill the callback
            self.status.value = (f"<b style='color:#cf222e'>failed</b>: {html.escape(type(exc).__name__)}: "
                                 f"{html.escape(str(exc))}")

    def select(self, scenario: str, setting: str | None = None) -> None:
        """Set the form's scenario (and setting) as a learner would."""
        if scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {scenario!r}; pick one of {list(SCENARIOS)}")
        self.scenario_picker.value = scenario
        if setting is not None:
            self.setting_picker.value = setting

    def run(self, scenario: str, setting: str) -> LabPoint:
        """Measure one scenario/setting, add it to the history and redraw."""
        point = self.measure(scenario, setting)
        self.history.append(point)
        self.status.value = (f"run #{len(self.history)}: {html.escape(scenario)} / {html.escape(setting)} → "
                             f"<b>{point.value:,.1f} {html.escape(point.unit)}</b> (median of {point.runs})")
        self.render()
        return point

    def points(self, scenario: str) -> dict[str, LabPoint]:
        """The latest point per setting of ``scenario``, in the order the settings were first measured."""
        latest: dict[str, LabPoint] = {}
        for point in self.history:
            if point.scenario == scenario:
                latest[point.setting] = point
        return latest

    def table_rows(self) -> list[tuple[str, str, str]]:
        """``(scenario, setting, value)`` rows as the table shows them, newest last."""
        return [(p.scenario, p.setting, f"{p.value:,.1f} {p.unit}") for p in self.history]

    def render(self) -> None:
        """Redraw the table (every run) and the chart of the selected scenario."""
        rows = "".join(f"<tr><td>{html.escape(s)}</td><td>{html.escape(k)}</td><td style='text-align:right'>"
                       f"{html.escape(v)}</td></tr>" for s, k, v in self.table_rows())
        self.table_view.value = ("<table><tr><th>scenario</th><th>setting</th><th>median</th></tr>"
                                 f"{rows}</table>" if rows else "<i>no runs yet</i>")
        self.chart.outputs = ()  # replace the chart (clear_output needs a kernel; this works anywhere)
        svg = self.chart_svg(str(self.scenario_picker.value))
        if svg:
            self.chart.append_display_data(SVG(data=svg))  # type: ignore[no-untyped-call]

    def chart_svg(self, scenario: str) -> str:
        """A matplotlib bar chart (SVG text) of ``scenario``'s latest point per setting; empty if none yet."""
        points = self.points(scenario)
        if not points:
            return ""
        from matplotlib.figure import Figure  # a Figure of its own: no pyplot, the kernel's backend stays as it is

        fig = Figure(figsize=(6.5, 0.5 + 0.45 * len(points)))
        ax = fig.subplots()
        labels = list(points)
        values = [p.value for p in points.values()]
        unit = next(iter(points.values())).unit
        ax.barh(labels, values, color="#4c72b0")
        ax.invert_yaxis()
        ax.set_xlabel(f"{unit} ({'higher' if unit.endswith('/s') else 'lower'} is better)")
        ax.set_title(scenario)
        for y, v in enumerate(values):
            ax.text(v, y, f" {v:,.0f}" if v >= 100 else f" {v:.1f}", va="center", fontsize=8)
        fig.tight_layout()
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg")
        return buffer.getvalue()
