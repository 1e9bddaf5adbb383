"""Windowed aggregation without a broker: windows, watermark, grace, resume, and agreement with a batch sum."""

from __future__ import annotations

import random

import pytest

from course_lib.streams import (
    HoppingWindows,
    TumblingWindows,
    Window,
    WindowedAggregator,
    batch_totals,
    top_keys,
)


def test_tumbling_windows_put_each_event_in_exactly_one_half_open_window() -> None:
    windows = TumblingWindows(10_000)
    assert windows.windows_for(0) == [Window(0, 10_000)]
    assert windows.windows_for(9_999) == [Window(0, 10_000)]
    assert windows.windows_for(10_000) == [Window(10_000, 20_000)]


def test_hopping_windows_put_each_event_in_size_over_advance_windows() -> None:
    windows = HoppingWindows(10_000, 5_000)
    assert windows.windows_for(12_000) == [Window(5_000, 15_000), Window(10_000, 20_000)]
    assert all(w.start_ms <= 12_000 < w.end_ms for w in windows.windows_for(12_000))


@pytest.mark.parametrize(("size", "advance"), [(0, 1), (10, 0), (10, 20)])
def test_bad_window_shapes_are_refused_with_the_reason(size: int, advance: int) -> None:
    with pytest.raises(ValueError, match=r"advance|positive"):
        HoppingWindows(size, advance)


def test_a_window_is_emitted_once_the_watermark_passes_its_end() -> None:
    agg: WindowedAggregator[str] = WindowedAggregator(TumblingWindows(10_000), grace_ms=2_000)
    assert agg.add(1_000, "mug", 5) == []
    assert agg.add(11_000, "mug", 7) == []  # watermark 9 000: [0,10s) still open for late events
    results = agg.add(12_500, "tee", 1)  # watermark 10 500 ≥ 10 000: [0,10s) is final
    assert [(r.window, r.key, r.total, r.count) for r in results] == [(Window(0, 10_000), "mug", 5.0, 1)]


def test_an_event_within_the_grace_period_still_counts() -> None:
    agg: WindowedAggregator[str] = WindowedAggregator(TumblingWindows(10_000), grace_ms=2_000)
    agg.add(11_000, "mug", 7)
    agg.add(9_000, "mug", 3)  # out of order but not late: its window is open until the watermark passes 10 s
    assert agg.late == 0
    assert agg.flush()[0].total == 3


def test_late_events_are_counted_and_kept_not_dropped_silently() -> None:
    agg: WindowedAggregator[str] = WindowedAggregator(TumblingWindows(10_000), grace_ms=0)
    agg.add(1_000, "mug", 5)
    agg.add(15_000, "mug", 1)  # closes [0,10s)
    agg.add(2_000, "mug", 100)  # too late
    assert agg.late == 1
    assert agg.late_events[0].value == 100
    assert [r.total for r in agg.emitted] == [5]


def test_stream_totals_equal_the_batch_computation_when_nothing_is_late() -> None:
    rng = random.Random(7)
    events = [(t * 137 + rng.randrange(0, 3_000), rng.choice("abc"), float(rng.randrange(1, 50)))
              for t in range(2_000)]
    windows = HoppingWindows(10_000, 5_000)
    agg: WindowedAggregator[str] = WindowedAggregator(windows, grace_ms=3_000)
    agg.add_all(events)
    agg.flush()
    assert agg.late == 0
    assert {(r.window, r.key): r.total for r in agg.emitted} == batch_totals(events, windows)


def test_a_resumed_aggregator_skips_windows_emitted_before_the_restart() -> None:
    agg: WindowedAggregator[str] = WindowedAggregator(TumblingWindows(10_000), resume_watermark_ms=10_000)
    agg.add(4_000, "mug", 5)  # its window [0,10s) was emitted before the restart
    agg.add(12_000, "mug", 2)
    assert agg.skipped_on_resume == 1
    assert agg.late == 0
    assert [(r.window, r.total) for r in agg.flush()] == [(Window(10_000, 20_000), 2.0)]


def test_callbacks_receive_each_result_and_top_keys_orders_by_total() -> None:
    seen: list[str] = []
    agg: WindowedAggregator[str] = WindowedAggregator(TumblingWindows(1_000), on_result=[lambda r: seen.append(r.key)])
    agg.add_all([(100, "b", 2), (200, "a", 2), (300, "c", 9)])
    agg.advance_watermark(5_000)
    assert sorted(seen) == ["a", "b", "c"]
    assert top_keys({"a": 2.0, "b": 2.0, "c": 9.0}, 2) == [("c", 9.0), ("a", 2.0)]


def test_with_several_inputs_the_slowest_input_holds_the_watermark_back() -> None:
    agg: WindowedAggregator[str] = WindowedAggregator(TumblingWindows(10_000), inputs=2)
    agg.add(50_000, "mug", 1, source=0)  # partition 0 is far ahead
    assert agg.watermark_ms is None  # partition 1 has said nothing yet
    agg.add(3_000, "mug", 2, source=1)
    assert agg.late == 0 and agg.watermark_ms == 3_000
    assert agg.add(12_000, "mug", 4, source=1)[0].total == 2


def test_integer_cents_stay_integers_through_windows_and_the_batch_answer() -> None:
    agg: WindowedAggregator[str] = WindowedAggregator(TumblingWindows(10_000))
    events = [(1_000, "mug", 1250), (2_000, "mug", 1250), (3_000, "tee", 2000)]
    agg.add_all(events)
    results = agg.flush()
    # the type, not the value: 2500.0 == 2500 would pass
    assert all(type(r.total) is int for r in results)
    assert all(type(total) is int for total in batch_totals(events, TumblingWindows(10_000)).values())


def test_a_window_closes_when_event_time_passes_its_end_plus_the_grace() -> None:
    agg: WindowedAggregator[str] = WindowedAggregator(TumblingWindows(10_000), grace_ms=2_000)
    agg.add(1_000, "mug", 5)
    assert agg.add(11_999, "mug", 1) == []  # Kafka Streams: stream time 11 999 < end 10 000 + grace 2 000
    assert [r.window for r in agg.add(12_000, "mug", 1)] == [Window(0, 10_000)]
