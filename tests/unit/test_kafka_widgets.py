"""The partition view and the revenue chart, driven without a browser or a broker."""

from __future__ import annotations

from collections.abc import Callable

from course_lib.messaging.kafka import PartitionLag, Record
from course_lib.streams import TumblingWindows, Window, WindowedAggregator, WindowResult
from course_lib.widgets.partition_view import PartitionBoard
from course_lib.widgets.revenue_chart import RevenueChart


class FakeGroup:
    """Range-assigns partitions to the members in join order, like a group coordinator would."""

    def __init__(self, partitions: int) -> None:
        self.partitions = partitions
        self.members: list[FakeWorker] = []

    def owned(self, worker: FakeWorker) -> list[int]:
        if worker not in self.members:
            return []
        index, count = self.members.index(worker), len(self.members)
        return [p for p in range(self.partitions) if p % count == index]


class FakeWorker:
    def __init__(self, name: str, handler: Callable[[Record], None], group: FakeGroup) -> None:
        self.name, self.handler, self.group = name, handler, group
        group.members.append(self)
        self.stopped = False
        self.paused = False

    def pause(self, timeout: float = 10.0) -> None:
        self.paused = True

    def resume(self) -> None:
        self.paused = False

    @property
    def assignment(self) -> list[int]:
        return self.group.owned(self)

    def stop(self, timeout: float = 10.0) -> None:
        self.stopped = True
        self.group.members.remove(self)


def _board() -> tuple[PartitionBoard, FakeGroup, list[FakeWorker]]:
    group = FakeGroup(3)
    started: list[FakeWorker] = []

    def start(name: str, handler: Callable[[Record], None]) -> FakeWorker:
        worker = FakeWorker(name, handler, group)
        started.append(worker)
        return worker

    lag = {0: PartitionLag(0, 4, 6, 2), 1: PartitionLag(1, 5, 5, 0), 2: PartitionLag(2, 0, 3, 3)}
    return PartitionBoard("orders", "billing", 3, start_worker=start, lag_source=lambda: lag), group, started


def test_adding_consumers_spreads_the_partitions_and_removing_one_hands_them_back() -> None:
    board, _group, started = _board()
    assert board.add_consumer() == "consumer-1"
    assert board.assignments() == {"consumer-1": [0, 1, 2]} and board.balanced()
    board.add_consumer()
    board.add_consumer()
    assert board.assignments() == {"consumer-1": [0], "consumer-2": [1], "consumer-3": [2]}
    assert board.remove_consumer() == "consumer-3" and started[2].stopped
    assert sorted(p for ps in board.assignments().values() for p in ps) == [0, 1, 2]
    board.stop()
    assert board.workers == [] and all(w.stopped for w in started)
    assert board.remove_consumer() is None


def test_processed_records_appear_in_their_partition_lane_coloured_by_consumer() -> None:
    board, _group, started = _board()
    board.add_consumer()
    started[0].handler(Record("orders", 2, 17, "o5", b"{}"))
    board.render()
    assert board.lanes[2][0].offset == 17 and board.lanes[2][0].consumer == "consumer-1"
    assert board.processed == {"consumer-1": 1}
    assert "offset 17, key o5, by consumer-1" in board.board.value


def test_refresh_shows_committed_offset_end_and_lag_per_partition() -> None:
    board, _group, _started = _board()
    board.refresh()
    rows = {row["partition"]: row for row in board.rows()}
    assert (rows[0]["committed"], rows[0]["end"], rows[0]["lag"]) == (4, 6, 2)
    assert board.total_lag() == 5
    assert "<b>3</b>" in board.board.value


def test_buttons_call_the_same_actions_and_report_errors_in_the_log() -> None:
    board, _group, _started = _board()
    board.add_button.click()
    assert list(board.assignments()) == ["consumer-1"]
    board.remove_button.click()
    board.remove_button.click()  # nothing left: a log line, not an exception
    assert any("no consumer to remove" in o.get("text", "") for o in board.log.outputs)


def _result(start: int, key: str, total: float) -> WindowResult[str]:
    return WindowResult(Window(start, start + 10_000), key, total, 1)


def test_revenue_chart_shows_final_and_open_windows_and_top_products() -> None:
    chart = RevenueChart(TumblingWindows(10_000))
    chart.on_result(_result(0, "mug", 2500))
    chart.on_result(_result(0, "tee", 4000))
    aggregator: WindowedAggregator[str] = WindowedAggregator(TumblingWindows(10_000))
    aggregator.add(12_000, "cap", 900)
    chart.observe(aggregator)
    assert chart.window_totals() == {0: 6500}
    assert chart.window_totals(include_provisional=True) == {0: 6500, 10_000: 900}
    assert chart.top_products() == [("tee", 4000), ("mug", 2500)]
    assert "(open)" in chart.chart.value and "late events: <b>0</b>" in chart.chart.value


def test_the_grace_slider_replays_the_events_and_counts_late_ones() -> None:
    chart = RevenueChart(TumblingWindows(10_000))
    for event in [(1_000, "mug", 100), (15_000, "mug", 100), (8_000, "tee", 50), (25_000, "cap", 10)]:
        chart.record(*event)
    strict = chart.replay(0)
    assert strict["late"] == 1 and strict["counted_cents"] == 210
    chart.slider.value = 10  # seconds, as a learner would drag it
    assert chart.late == 0
    assert chart.window_totals() == {0: 150, 10_000: 100, 20_000: 10}
    assert "grace 10s: 0 late event(s)" in "".join(o.get("text", "") for o in chart.log.outputs)


def test_pausing_the_group_pauses_every_consumer_and_the_toggle_resumes_them() -> None:
    board, _group, started = _board()
    board.add_consumer()
    board.add_consumer()
    board.pause()
    assert board.paused and all(w.paused for w in started) and board.pause_button.value
    assert "<b>paused</b>" in board.board.value
    board.pause_button.value = False  # the learner clicks the toggle
    assert not board.paused and not any(w.paused for w in started)
    log = "".join(o.get("text", "") for o in board.log.outputs)
    assert log.count("group paused") == 1 and log.count("group resumed") == 1
