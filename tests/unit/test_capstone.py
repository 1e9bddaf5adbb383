"""The capstone's wiring pieces that need no broker: saga facts, the fan-out publisher, crash switches, invariants."""

from __future__ import annotations

import pytest

from course_lib.capstone import Crashes, FanOutPublisher, InjectedCrash, Names, applied_twice, unsettled
from course_lib.capstone.invariants import Report
from course_lib.messages import envelope
from course_lib.outbox import RecordingPublisher
from course_lib.sagas import Orchestrator, SQLiteSagaLog
from course_lib.shop.events import OrderCreated, OrderSubmitted
from course_lib.shop.saga import order_data, order_saga, saga_facts
from course_lib.shop.services import Shop


def run_saga(shop: Shop, order_id: str = "o-1") -> list[str]:
    log = SQLiteSagaLog(":memory:")
    state = Orchestrator(order_saga(shop), log, sleep=lambda _s: None).start(
        order_id, order_data(order_id, {"mug": 2, "tee": 1}, 4900))
    return [type(f).__name__ for f in saga_facts(state)]


def test_a_completed_saga_becomes_reserved_charged_shipped_notified() -> None:
    assert run_saga(Shop.seeded(1)) == ["StockReserved", "StockReserved", "PaymentCharged", "ShipmentCreated",
                                        "NotificationSent"]


def test_a_declined_payment_becomes_declined_then_released() -> None:
    shop = Shop.seeded(1)
    shop.faults.fail("payment.charge", "declined")
    assert run_saga(shop) == ["StockReserved", "StockReserved", "PaymentDeclined", "StockReleased", "StockReleased"]


def test_out_of_stock_leaves_no_effect_to_record() -> None:
    assert run_saga(Shop.seeded(1, stock={"mug": 1, "tee": 0})) == []


class _Sink(RecordingPublisher):
    def close(self) -> None:
        pass


def test_fan_out_sends_every_event_to_kafka_and_only_tasks_to_rabbitmq() -> None:
    kafka, rabbit = _Sink(), _Sink()
    publisher = FanOutPublisher(kafka, rabbit)  # type: ignore[arg-type]
    created = envelope(OrderCreated(order_id="o", customer_id="c"))
    submitted = envelope(OrderSubmitted(order_id="o", total_cents=1))
    publisher.publish(created)
    publisher.publish(submitted)
    assert kafka.published == [created, submitted] and rabbit.published == [submitted]
    rabbit.fail_next()
    with pytest.raises(ConnectionError):  # the relay keeps the row pending: Kafka will see it again
        publisher.publish(submitted)
    assert (publisher.kafka_sent, publisher.rabbit_sent) == (3, 1)


def test_crash_switches_are_off_until_armed_and_count_what_they_did() -> None:
    crashes = Crashes(seed=1)
    crashes.relay_hook("after publish")
    crashes.projector_fault("before_commit", 5)
    crashes.relay_probability = 1.0
    crashes.projector_failures = 1
    crashes.relay_hook("before publish")  # only after a publish: that is the point that makes duplicates
    with pytest.raises(InjectedCrash, match="after publish"):
        crashes.relay_hook("after publish")
    with pytest.raises(InjectedCrash, match="position 5"):
        crashes.projector_fault("before_commit", 5)
    crashes.projector_fault("before_commit", 6)  # one failure was asked for
    assert (crashes.relay_crashes, crashes.projector_crashes) == (1, 1)


def test_names_carry_the_prefix_the_reset_command_looks_for() -> None:
    names = Names("nb12", "ab12")
    assert [names.events_topic, names.saga_queue, names.exchange] == ["nb12-events-ab12", "nb12-saga-ab12",
                                                                      "nb12-shop-ab12"]


def test_invariant_helpers() -> None:
    assert unsettled({"a": "paid", "b": "submitted", "c": "cancelled", "d": "draft"}) == ["b", "d"]
    assert applied_twice([("a", "OrderPaid"), ("a", "OrderCancelled"), ("b", "OrderPaid"),
                          ("b", "OrderSubmitted")]) == {"a"}
    report = Report({"one": "", "two": "broken"})
    assert not report.ok and report.failures() == {"two": "broken"}
    assert str(report).splitlines() == ["✔ one", "✘ two: broken"]
