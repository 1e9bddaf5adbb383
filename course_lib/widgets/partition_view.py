"""The partition view: a topic's partitions as lanes, who owns each one, committed offset and lag — live.

State lives on :class:`PartitionBoard`: the records each consumer processed per partition, the group's members
and their assignments, and the last lag measurement. The buttons ("add consumer", "remove consumer", "refresh")
call the same methods a cell can call, so the notebook drives it from code and asserts what it shows.
Workers and the lag source are injectable, so the unit tests need no broker. A consumer that stopped on its own
is shown with its error (its ``error`` attribute), and ``stop()`` stops every consumer before it raises.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import ipywidgets as widgets

from course_lib.errors import describe_error
from course_lib.messaging.kafka import GroupWorker, PartitionLag, Record, Topics

COLOURS = ["#0969da", "#bf3989", "#1a7f37", "#9a6700", "#8250df", "#cf222e"]


class WorkerLike(Protocol):
    """What the board needs from a group member."""

    name: str

    @property
    def assignment(self) -> list[int]: ...

    def stop(self, timeout: float = 10.0) -> None: ...

    def pause(self, timeout: float = 10.0) -> None: ...

    def resume(self) -> None: ...


@dataclass(frozen=True)
class LaneRecord:
    """One processed record in a partition's lane."""

    offset: int
    key: str | None
    consumer: str


StartWorker = Callable[[str, Callable[[Record], None]], WorkerLike]


class PartitionBoard:
    """Partitions as lanes; consumers join and leave; lag per partition from the broker's high-water mark."""

    def __init__(self, topic: str, group_id: str, partitions: int, *, bootstrap: str | None = None,
                 start_worker: StartWorker | None = None,
                 lag_source: Callable[[], dict[int, PartitionLag]] | None = None, lane_length: int = 12) -> None:
        self.topic = topic
        self.group_id = group_id
        self.partitions = partitions
        self.lane_length = lane_length
        self.bootstrap = bootstrap
        self._start_worker = start_worker or self._start_group_worker
        self._lag_source = lag_source or self._kafka_lag
        self.lanes: dict[int, list[LaneRecord]] = {p: [] for p in range(partitions)}
        self.processed: dict[str, int] = {}
        self.workers: list[WorkerLike] = []
        self.lag: dict[int, PartitionLag] = {}
        self._lock = threading.Lock()
        self._next_id = 1
        self.add_button = widgets.Button(description="add consumer", icon="plus", button_style="success")
        self.remove_button = widgets.Button(description="remove consumer", icon="minus", button_style="warning")
        self.pause_button = widgets.ToggleButton(description="pause group", icon="pause", value=False)
        self.refresh_button = widgets.Button(description="refresh lag", icon="refresh")
        self.paused = False
        self.board = widgets.HTML()
        self.log = widgets.Output()
        self.add_button.on_click(lambda _b: self._clicked(self.add_consumer))
        self.remove_button.on_click(lambda _b: self._clicked(self.remove_consumer))
        self.refresh_button.on_click(lambda _b: self._clicked(self.refresh))
        self.pause_button.observe(self._on_toggle, names="value")
        self.view = widgets.VBox([widgets.HBox([self.add_button, self.remove_button, self.pause_button,
                                                self.refresh_button]),
                                  self.board, self.log])
        self.view.add_class("course-partition-board")
        self.board.add_class("course-partition-lanes")
        self.log.add_class("course-partition-log")
        self.render()

    # ---- actions (buttons and cells call these) ------------------------------------------------------------
    def add_consumer(self) -> str:
        """Start one more member of the group; returns its name."""
        name = f"consumer-{self._next_id}"
        self._next_id += 1
        self.processed[name] = 0
        self.workers.append(self._start_worker(name, self._recorder(name)))
        self.log.append_stdout(f"{name} joins group {self.group_id}\n")
        self.render()
        return name

    def remove_consumer(self) -> str | None:
        """Stop the newest member (it commits and leaves the group); returns its name, or None if there is none."""
        if not self.workers:
            self.log.append_stdout("no consumer to remove\n")
            return None
        worker = self.workers.pop()
        worker.stop()
        self.log.append_stdout(f"{worker.name} leaves the group\n")
        self.render()
        return worker.name

    def pause(self) -> None:
        """Every consumer stops fetching but stays in the group: new records pile up as lag."""
        self.paused = True
        self.pause_button.value = True
        for worker in self.workers:
            worker.pause()
        self.log.append_stdout("group paused: consumers stay members, records wait\n")
        self.render()

    def resume(self) -> None:
        """Consumers fetch again and work the lag off."""
        self.paused = False
        self.pause_button.value = False
        for worker in self.workers:
            worker.resume()
        self.log.append_stdout("group resumed\n")
        self.render()

    def refresh(self) -> dict[int, PartitionLag]:
        """Measure committed offsets and lag now, and redraw."""
        self.lag = self._lag_source()
        self.render()
        return self.lag

    def stop(self) -> None:
        """Stop every consumer (the notebook calls this at the end); then raise the first one's failure, if any."""
        failures: list[Exception] = []
        while self.workers:
            try:
                self.workers.pop().stop()
            except Exception as exc:  # the others must still be stopped
                failures.append(exc)
        self.render()
        if failures:
            raise failures[0]

    def failed(self) -> dict[str, str]:
        """Consumers that stopped on their own, and why (what the board shows in red)."""
        errors = {w.name: getattr(w, "error", None) for w in self.workers}
        return {name: describe_error(error) for name, error in errors.items() if error is not None}

    # ---- what the board shows ---------------------------------------------------------------------------------
    def assignments(self) -> dict[str, list[int]]:
        """Each consumer's partitions."""
        return {w.name: list(w.assignment) for w in self.workers}

    def owner(self, partition: int) -> str | None:
        for worker in self.workers:
            if partition in worker.assignment:
                return worker.name
        return None

    def balanced(self) -> bool:
        """True when every partition has exactly one owner and every consumer that can have one has one."""
        owned = sorted(p for parts in self.assignments().values() for p in parts)
        busy = sum(1 for parts in self.assignments().values() if parts)
        return owned == list(range(self.partitions)) and busy == min(len(self.workers), self.partitions)

    def total_lag(self) -> int:
        return sum(p.lag for p in self.lag.values())

    def rows(self) -> list[dict[str, Any]]:
        """One row per partition: owner, records in the lane, committed offset, end offset, lag."""
        rows = []
        for p in range(self.partitions):
            lag = self.lag.get(p)
            with self._lock:
                lane = list(self.lanes[p])
            rows.append({"partition": p, "owner": self.owner(p), "records": len(lane),
                         "committed": lag.committed if lag else None, "end": lag.end if lag else None,
                         "lag": lag.lag if lag else None})
        return rows

    def html(self) -> str:
        colour = {name: COLOURS[i % len(COLOURS)] for i, name in enumerate(sorted(self.processed))}
        state = " · <b>paused</b>" if self.paused else ""
        lines = [f"<div class='course-partition-view'><b>{html.escape(self.topic)}</b> · group "
                 f"<code>{html.escape(self.group_id)}</code> · {len(self.workers)} consumer(s){state}"
                 "<table cellpadding='4' style='border-collapse:collapse;margin-top:4px'>"
                 "<tr><th>partition</th><th style='text-align:left'>records (newest right)</th><th>owner</th>"
                 "<th>committed</th><th>high-water mark</th><th>lag</th></tr>"]
        for row in self.rows():
            p = row["partition"]
            with self._lock:
                lane = self.lanes[p][-self.lane_length:]
            boxes = "".join(
                f"<span title='offset {r.offset}, key {html.escape(str(r.key))}, by {r.consumer}' "
                f"style='display:inline-block;min-width:22px;margin:1px;padding:1px 3px;color:white;"
                f"background:{colour.get(r.consumer, '#57606a')};font-size:11px'>{r.offset}</span>"
                for r in lane)
            owner = row["owner"]
            owner_html = (f"<span style='color:{colour.get(owner, '#57606a')}'>{html.escape(owner)}</span>"
                          if owner else "<i>unassigned</i>")
            shown = ["–" if row[k] is None else str(row[k]) for k in ("committed", "end", "lag")]
            lines.append(f"<tr><td>P{p}</td><td style='min-width:320px'>{boxes}</td><td>{owner_html}</td>"
                         f"<td>{shown[0]}</td><td>{shown[1]}</td><td><b>{shown[2]}</b></td></tr>")
        lines.append("</table>")
        lines += [f"<div class='course-partition-failed' style='color:#cf222e'>{html.escape(name)} stopped: "
                  f"{html.escape(why)}</div>" for name, why in self.failed().items()]
        lines.append("</div>")
        return "".join(lines)

    def render(self) -> None:
        self.board.value = self.html()

    # ---- plumbing ---------------------------------------------------------------------------------------------
    def _recorder(self, name: str) -> Callable[[Record], None]:
        def record(rec: Record) -> None:
            with self._lock:
                self.lanes[rec.partition].append(LaneRecord(rec.offset, rec.key, name))
                self.processed[name] = self.processed.get(name, 0) + 1

        return record

    def _start_group_worker(self, name: str, handler: Callable[[Record], None]) -> WorkerLike:
        return GroupWorker(self.topic, self.group_id, handler, bootstrap=self.bootstrap, name=name,
                           on_assignment=lambda _w, _parts: self.render()).start()

    def _kafka_lag(self) -> dict[int, PartitionLag]:
        with Topics(self.bootstrap) as topics:
            return topics.lag(self.group_id, self.topic)

    def _on_toggle(self, change: dict[str, Any]) -> None:
        if change["new"] != self.paused:  # a click, not our own update of the button
            self._clicked(self.pause if change["new"] else self.resume)

    def _clicked(self, action: Callable[[], object]) -> None:
        try:
            action()
        except Exception as exc:  # a click must report, not raise into the front end
            self.log.append_stdout(f"{type(exc).__name__}: {exc}\n")
