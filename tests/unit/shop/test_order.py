"""The Order aggregate: each rule, and that state comes only from events."""

from __future__ import annotations

import pytest

from course_lib.shop.events import OrderCreated, OrderSubmitted
from course_lib.shop.order import Order, OrderRuleBroken


def paid_order() -> Order:
    order = Order.create("o1", "c1")
    order.add_item("mug", 2, 1250)
    order.submit()
    order.pay(2500, "p1")
    return order


def test_a_full_life_cycle_records_one_event_per_command() -> None:
    order = paid_order()
    order.ship("T1")
    order.deliver()
    assert [type(e).__name__ for e in order.pending_events] == [
        "OrderCreated", "OrderItemAdded", "OrderSubmitted", "OrderPaid", "OrderShipped", "OrderDelivered"]
    assert order.status == "delivered" and order.version == 6 and order.tracking_number == "T1"
    assert order.pending_events[2] == OrderSubmitted(order_id="o1", total_cents=2500)


def test_state_comes_only_from_events_so_replaying_gives_the_same_state() -> None:
    order = paid_order()
    replayed = Order.rehydrate("o1", order.pending_events)
    assert replayed.summary() == order.summary()
    assert replayed.pending_events == []


def test_items_add_up_and_can_be_removed() -> None:
    order = Order.create("o1", "c1")
    order.add_item("mug", 1, 1000)
    order.add_item("mug", 2, 1000)
    order.add_item("tea", 1, 450)
    assert order.items["mug"]["quantity"] == 3 and order.total_cents == 3450
    order.remove_item("tea")
    assert order.total_cents == 3000


@pytest.mark.parametrize(("make", "command", "message"), [
    (lambda: Order.create("o1", "c1"), lambda o: o.submit(), "empty"),
    (lambda: Order.create("o1", "c1"), lambda o: o.add_item("mug", 0, 100), "at least 1"),
    (lambda: Order.create("o1", "c1"), lambda o: o.add_item("mug", 1, -5), "negative"),
    (lambda: Order.create("o1", "c1"), lambda o: o.remove_item("mug"), "no item 'mug'"),
    (lambda: Order.create("o1", "c1"), lambda o: o.ship("T1"), "unpaid order cannot ship"),
    (lambda: Order.create("o1", "c1"), lambda o: o.deliver(), "needs it to be shipped"),
    (paid_order, lambda o: o.add_item("tea", 1, 1), "is paid"),
    (paid_order, lambda o: o.pay(2500, "p2"), "is paid"),
    (paid_order, lambda o: o.submit(), "is paid"),
])
def test_broken_rules_raise_clear_domain_errors_and_record_nothing(make, command, message: str) -> None:
    order = make()
    before = (order.version, order.summary())
    with pytest.raises(OrderRuleBroken, match=message):
        command(order)
    assert (order.version, order.summary()) == before


def test_payment_must_match_the_total_and_shipping_needs_payment() -> None:
    order = Order.create("o1", "c1")
    order.add_item("mug", 2, 1250)
    order.submit()
    with pytest.raises(OrderRuleBroken, match="totals 2500 cents"):
        order.pay(2000, "p1")
    with pytest.raises(OrderRuleBroken, match="not paid"):
        order.ship("T1")


def test_cancel_before_shipping_only_and_once() -> None:
    order = paid_order()
    order.cancel("changed my mind")
    assert order.status == "cancelled"
    with pytest.raises(OrderRuleBroken, match="already cancelled"):
        order.cancel("again")
    shipped = paid_order()
    shipped.ship("T1")
    with pytest.raises(OrderRuleBroken, match="no longer be cancelled"):
        shipped.cancel("too late")
    with pytest.raises(OrderRuleBroken, match="order id and a customer id"):
        Order.create("", "c1")


def test_snapshot_state_round_trips() -> None:
    order = paid_order()
    copy = Order("o1")
    copy.restore_state(order.snapshot_state())
    assert copy.snapshot_state() == order.snapshot_state()


def test_events_from_other_streams_are_refused() -> None:
    from course_lib.aggregates import DomainError
    from course_lib.shop.events import StockReserved

    with pytest.raises(DomainError, match="no @handles method for StockReserved"):
        Order.rehydrate("o1", [OrderCreated(order_id="o1", customer_id="c"),
                               StockReserved(order_id="o1", sku="mug", quantity=1)])


def test_every_order_event_has_a_handler() -> None:
    from course_lib.shop.events import ORDER_EVENTS

    assert set(ORDER_EVENTS) == set(Order._handlers)
