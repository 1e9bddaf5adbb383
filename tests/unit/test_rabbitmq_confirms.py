"""Confirm bookkeeping per delivery tag: acks, nacks and returns in any order (no broker needed)."""

from __future__ import annotations

import random

from course_lib.messaging.rabbitmq.confirms import ConfirmTracker


def _sent(tracker: ConfirmTracker, n: int) -> list[int]:
    return [tracker.sent(f"m{i}", f"k{i}").tag for i in range(n)]


def test_a_late_tag_acked_first_does_not_settle_the_earlier_ones() -> None:
    tracker = ConfirmTracker()
    _sent(tracker, 4)
    tracker.acked(4)  # e.g. an unroutable message or a fast queue, answered before the disk writes of 1..3
    assert tracker.outstanding == 3
    report = tracker.report()
    assert [m.message_id for m in report.confirmed] == ["m3"]
    assert [f.message_id for f in report.unconfirmed] == ["m0", "m1", "m2"]


def test_multiple_settles_every_outstanding_tag_up_to_it_and_only_those() -> None:
    tracker = ConfirmTracker()
    _sent(tracker, 6)
    tracker.acked(5)
    tracker.nacked(3, multiple=True)  # 1, 2, 3 refused
    tracker.acked(4, multiple=True)  # only 4 is left at or below 4
    assert tracker.outstanding == 1
    tracker.acked(6)
    report = tracker.report()
    assert [m.message_id for m in report.confirmed] == ["m3", "m4", "m5"]
    assert [(f.message_id, f.reason) for f in report.nacked] == [("m0", "nacked"), ("m1", "nacked"), ("m2", "nacked")]


def test_a_returned_message_is_reported_apart_even_though_it_is_acked() -> None:
    tracker = ConfirmTracker()
    _sent(tracker, 3)
    tracker.returned("m1", "k1", b"", "NO_ROUTE")
    tracker.acked(3, multiple=True)
    report = tracker.report()
    assert [m.message_id for m in report.confirmed] == ["m0", "m2"]
    assert [(f.message_id, f.routing_key, f.reason, f.detail) for f in report.failed] == [
        ("m1", "k1", "returned", "NO_ROUTE")]
    assert not report.ok


def test_returns_of_raw_bodies_without_ids_match_one_message_each() -> None:
    tracker = ConfirmTracker()
    for _ in range(3):
        tracker.sent("", "nowhere", b"same")
    tracker.sent("", "somewhere", b"same")
    tracker.returned("", "nowhere", b"same")
    tracker.returned("", "nowhere", b"same")
    tracker.acked(4, multiple=True)
    report = tracker.report()
    assert len(report.returned) == 2 and len(report.confirmed) == 2
    assert {m.routing_key for m in report.confirmed} == {"nowhere", "somewhere"}


def test_a_report_starts_a_new_batch_and_tags_keep_counting() -> None:
    tracker = ConfirmTracker()
    _sent(tracker, 2)
    tracker.acked(2, multiple=True)
    assert tracker.report().ok
    assert tracker.sent("next", "k").tag == 3
    tracker.acked(3)
    assert [m.tag for m in tracker.report().confirmed] == [3]


def test_any_order_of_single_answers_gives_the_same_report() -> None:
    rng = random.Random(7)
    for _ in range(200):
        tracker = ConfirmTracker()
        tags = _sent(tracker, 20)
        refused = set(rng.sample(tags, 5))
        rng.shuffle(tags)
        for i, tag in enumerate(tags):
            assert tracker.outstanding == 20 - i
            (tracker.nacked if tag in refused else tracker.acked)(tag)
        report = tracker.report()
        assert {f"m{t - 1}" for t in refused} == {f.message_id for f in report.nacked}
        assert len(report.confirmed) == 15 and not report.unconfirmed
