"""Command bus, query bus, event bus: one handler per command/query, isolated subscribers, correlation ids."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from course_lib.buses import (
    CommandBus,
    CommandContext,
    EventBus,
    HandlerAlreadyRegistered,
    InvalidCommand,
    NoHandler,
    Query,
    QueryBus,
    caused_by,
    correlation_middleware,
    logging_middleware,
)
from course_lib.clock import FixedStepClock, SequentialIds
from course_lib.eventstore.base import ConcurrencyError
from course_lib.eventstore.memory import InMemoryEventStore
from course_lib.messages import Command, Envelope, envelope
from course_lib.shop.commands import (
    AddItem,
    AggregateNotFound,
    CancelOrder,
    OrderRuleBroken,
    PayOrder,
    PlaceOrder,
    RemoveItem,
    SubmitOrder,
    register_shop_handlers,
)
from course_lib.shop.events import OrderCreated, OrderItemAdded, OrderSubmitted


class Ping(Command):
    text: str


@pytest.fixture
def store() -> InMemoryEventStore:
    return InMemoryEventStore(clock=FixedStepClock(), ids=SequentialIds(1000))


@pytest.fixture
def shop(store: InMemoryEventStore) -> CommandBus:
    return register_shop_handlers(CommandBus(store, clock=FixedStepClock(), ids=SequentialIds()))


# ---------------------------------------------------------------------------------------------- command bus


def test_a_command_without_handler_names_the_command() -> None:
    bus = CommandBus()
    bus.register(PlaceOrder, lambda c, ctx: None)
    with pytest.raises(NoHandler, match=r"No handler for command 'Ping' \(registered: PlaceOrder\)"):
        bus.dispatch(Ping(text="hi"))


def test_a_command_has_exactly_one_handler() -> None:
    bus = CommandBus()
    bus.register(Ping, lambda c, ctx: None)
    with pytest.raises(HandlerAlreadyRegistered, match="exactly one"):
        bus.register(Ping, lambda c, ctx: None)


def test_handler_result_events_and_position_come_back(shop: CommandBus, store: InMemoryEventStore) -> None:
    assert shop.dispatch(PlaceOrder(order_id="o1", customer_id="ada")).value == "o1"
    shop.dispatch(AddItem(order_id="o1", sku="mug", quantity=2, unit_price_cents=1250))
    result = shop.dispatch(SubmitOrder(order_id="o1"))
    assert result.value == 2500
    assert result.position == store.last_position() == 3
    assert [type(e.message) for e in result.events] == [OrderSubmitted]
    assert result.events[0].metadata.stream_version == 3


def test_every_event_carries_the_commands_correlation_and_causation(shop: CommandBus,
                                                                     store: InMemoryEventStore) -> None:
    cmd = envelope(PlaceOrder(order_id="o1", customer_id="ada"))
    result = shop.dispatch(cmd)  # type: ignore[arg-type]
    stored = store.read_stream("order-o1")
    assert result.correlation_id == cmd.metadata.correlation_id
    assert [e.metadata.correlation_id for e in stored] == [cmd.metadata.correlation_id]
    assert [e.metadata.causation_id for e in stored] == [cmd.message_id]


def test_without_the_correlation_middleware_events_start_their_own_conversation(store: InMemoryEventStore) -> None:
    bus = register_shop_handlers(CommandBus(store, middleware=[logging_middleware]))
    result = bus.dispatch(PlaceOrder(order_id="o1", customer_id="ada"))
    event = store.read_stream("order-o1")[0]
    assert event.metadata.correlation_id != result.correlation_id
    assert event.metadata.causation_id is None


def test_a_command_sent_by_a_handler_continues_the_conversation(store: InMemoryEventStore) -> None:
    bus = register_shop_handlers(CommandBus(store))

    def place_and_fill(cmd: Ping, ctx: CommandContext) -> Any:
        bus.dispatch(PlaceOrder(order_id=cmd.text, customer_id="ada"))
        return bus.dispatch(AddItem(order_id=cmd.text, sku="mug", quantity=1, unit_price_cents=100))

    bus.register(Ping, place_and_fill)
    outer = envelope(Ping(text="o9"))
    bus.dispatch(outer)  # type: ignore[arg-type]
    events = store.read_stream("order-o9")
    assert {e.metadata.correlation_id for e in events} == {outer.metadata.correlation_id}
    assert all(e.metadata.causation_id not in (None, outer.message_id) for e in events)  # caused by inner commands


def test_validation_middleware_rejects_a_command_built_without_validation(shop: CommandBus) -> None:
    bad = AddItem.model_construct(order_id="o1", sku="mug", quantity=0, unit_price_cents=100)
    with pytest.raises(InvalidCommand, match="AddItem is invalid — quantity"):
        shop.dispatch(bad)


def test_submit_validates_raw_data_and_names_the_field(shop: CommandBus) -> None:
    with pytest.raises(InvalidCommand, match="customer_id"):
        shop.submit("PlaceOrder", {"order_id": "o1"})
    assert shop.submit("PlaceOrder", {"order_id": "o1", "customer_id": "ada"}).value == "o1"


def test_a_failing_command_handler_raises_and_stores_nothing(shop: CommandBus, store: InMemoryEventStore) -> None:
    with pytest.raises(AggregateNotFound, match="No stream 'order-ghost'"):
        shop.dispatch(AddItem(order_id="ghost", sku="mug", quantity=1, unit_price_cents=100))
    shop.dispatch(PlaceOrder(order_id="o1", customer_id="ada"))
    with pytest.raises(ConcurrencyError):
        shop.dispatch(PlaceOrder(order_id="o1", customer_id="bob"))
    with pytest.raises(OrderRuleBroken, match="is empty"):
        shop.dispatch(SubmitOrder(order_id="o1"))
    assert store.last_position() == 1


def test_order_life_cycle_rules(shop: CommandBus, store: InMemoryEventStore) -> None:
    shop.dispatch(PlaceOrder(order_id="o1", customer_id="ada"))
    shop.dispatch(AddItem(order_id="o1", sku="mug", quantity=1, unit_price_cents=100))
    shop.dispatch(AddItem(order_id="o1", sku="tea", quantity=1, unit_price_cents=300))
    shop.dispatch(RemoveItem(order_id="o1", sku="mug"))
    assert shop.dispatch(SubmitOrder(order_id="o1")).value == 300
    with pytest.raises(OrderRuleBroken, match="that needs it to be draft"):
        shop.dispatch(AddItem(order_id="o1", sku="mug", quantity=1, unit_price_cents=100))
    shop.dispatch(PayOrder(order_id="o1", payment_id="p1"))
    shop.dispatch(CancelOrder(order_id="o1", reason="late"))
    with pytest.raises(OrderRuleBroken, match="already cancelled"):
        shop.dispatch(CancelOrder(order_id="o1", reason="twice"))
    assert store.stream_version("order-o1") == 7


def test_logging_middleware_logs_success_and_failure(shop: CommandBus, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="course_lib.buses"):
        shop.dispatch(PlaceOrder(order_id="o1", customer_id="ada"))
        with pytest.raises(OrderRuleBroken):
            shop.dispatch(SubmitOrder(order_id="o1"))
    messages = [r.getMessage() for r in caplog.records]
    assert any("PlaceOrder" in m and "handled" in m and "1 event" in m for m in messages)
    assert any("SubmitOrder" in m and "failed" in m for m in messages)


def test_middleware_runs_in_order_around_the_handler() -> None:
    calls: list[str] = []

    def outer(ctx: CommandContext, nxt: Any) -> Any:
        calls.append("outer in")
        result = nxt(ctx)
        calls.append("outer out")
        return result

    def inner(ctx: CommandContext, nxt: Any) -> Any:
        calls.append("inner")
        return nxt(ctx)

    bus = CommandBus(middleware=[outer, inner, correlation_middleware])
    bus.register(Ping, lambda c, ctx: calls.append("handler"))
    bus.dispatch(Ping(text="x"))
    assert calls == ["outer in", "inner", "handler", "outer out"]


# ------------------------------------------------------------------------------------------------ query bus


class CountOrders(Query[int]):
    customer: str


def test_query_bus_returns_the_handlers_result_and_names_unknown_queries() -> None:
    bus = QueryBus()
    bus.register(CountOrders, lambda q: len(q.customer))
    assert bus.ask(CountOrders(customer="ada")) == 3
    with pytest.raises(HandlerAlreadyRegistered):
        bus.register(CountOrders, lambda q: 0)

    class Other(Query[str]):
        pass

    with pytest.raises(NoHandler, match="No handler for query 'Other'"):
        bus.ask(Other())


# ------------------------------------------------------------------------------------------------ event bus


def test_a_failing_subscriber_is_isolated_and_reported_the_others_still_run() -> None:
    bus = EventBus()
    seen: list[str] = []

    def broken(env: Envelope[Any]) -> None:
        raise RuntimeError("mail server down")

    bus.subscribe(OrderCreated, lambda env: seen.append("first"))
    bus.subscribe(OrderCreated, broken)
    bus.subscribe(None, lambda env: seen.append("audit"))
    bus.subscribe(OrderItemAdded, lambda env: seen.append("wrong type"))
    report = bus.publish(OrderCreated(order_id="o1", customer_id="ada"))
    assert seen == ["first", "audit"]
    assert report.delivered == 2 and not report.ok
    assert [str(f) for f in report.failures] == [
        "test_a_failing_subscriber_is_isolated_and_reported_the_others_still_run.<locals>.broken failed on "
        "OrderCreated: RuntimeError: mail server down"
    ]
    assert bus.failures == report.failures


def test_commands_raise_events_report_the_difference_made_explicit(store: InMemoryEventStore) -> None:
    events = EventBus()
    events.subscribe(OrderCreated, lambda env: (_ for _ in ()).throw(RuntimeError("subscriber broke")))
    bus = register_shop_handlers(CommandBus(store, event_bus=events))
    result = bus.dispatch(PlaceOrder(order_id="o1", customer_id="ada"))  # the command succeeded
    assert result.position == 1 and len(events.failures) == 1  # the subscriber's failure is reported, not raised
    with pytest.raises(OrderRuleBroken):  # a failing command handler raises to the caller
        bus.dispatch(SubmitOrder(order_id="o1"))


def test_published_events_keep_the_commands_correlation(store: InMemoryEventStore) -> None:
    events = EventBus()
    got: list[Envelope[Any]] = []
    events.subscribe(None, got.append)
    bus = register_shop_handlers(CommandBus(store, event_bus=events))
    result = bus.dispatch(PlaceOrder(order_id="o1", customer_id="ada"))
    assert [e.metadata.correlation_id for e in got] == [result.correlation_id]
    with caused_by(got[0]):
        events.publish(OrderItemAdded(order_id="o1", sku="mug", quantity=1, unit_price_cents=1))
    assert got[-1].metadata.correlation_id == result.correlation_id
    assert got[-1].metadata.causation_id == got[0].message_id


# ------------------------------------------------------------------------------ one save path, in_transaction

def test_the_bus_in_transaction_hook_runs_inside_every_append(store: InMemoryEventStore) -> None:
    seen: list[list[str]] = []
    bus = register_shop_handlers(CommandBus(store, in_transaction=lambda conn, envs: seen.append(
        [e.type for e in envs])))
    bus.dispatch(PlaceOrder(order_id="o-1", customer_id="c-1"))
    bus.dispatch(AddItem(order_id="o-1", sku="mug", quantity=1, unit_price_cents=100))
    assert seen == [["OrderCreated"], ["OrderItemAdded"]]


def test_a_failing_hook_rolls_the_append_back(store: InMemoryEventStore) -> None:
    def refuse(conn: Any, envs: list[Any]) -> None:
        raise RuntimeError("the outbox write failed")

    bus = register_shop_handlers(CommandBus(store, in_transaction=refuse))
    with pytest.raises(RuntimeError):
        bus.dispatch(PlaceOrder(order_id="o-1", customer_id="c-1"))
    assert store.last_position() == 0


def test_context_append_prefers_its_own_hook_when_given_one(store: InMemoryEventStore) -> None:
    calls: list[str] = []
    bus = CommandBus(store, in_transaction=lambda conn, envs: calls.append("bus"))
    bus.register(Ping, lambda cmd, ctx: ctx.append("ping-1", [OrderCreated(order_id="p", customer_id="c")],
                                                   in_transaction=lambda conn, envs: calls.append("handler")))
    bus.dispatch(Ping(text="x"))
    assert calls == ["handler"]


def test_shop_handlers_save_through_the_repository_caused_by_the_command(store: InMemoryEventStore) -> None:
    bus = register_shop_handlers(CommandBus(store, clock=FixedStepClock(), ids=SequentialIds()))
    placed = bus.dispatch(PlaceOrder(order_id="o-1", customer_id="c-1"))
    added = bus.dispatch(AddItem(order_id="o-1", sku="mug", quantity=2, unit_price_cents=100))
    stored = store.read_stream("order-o-1")
    assert [e.metadata.stream_version for e in added.events] == [2]
    assert added.events[0].message_id == stored[1].message_id and added.position == stored[1].metadata.position
    assert stored[0].metadata.correlation_id == placed.correlation_id != added.correlation_id
    assert stored[1].metadata.causation_id is not None


def test_context_save_takes_the_repositorys_snapshots(store: InMemoryEventStore) -> None:
    from course_lib.aggregates import Repository
    from course_lib.shop.order import Order

    def place_with_items(cmd: Ping, ctx: CommandContext) -> int:
        order = Order.create("o-9", "c-1")
        for sku in ("a", "b", "c"):
            order.add_item(sku, 1, 100)
        return ctx.save(Repository(store, Order, snapshot_every=2), order)

    bus = CommandBus(store)
    bus.register(Ping, place_with_items)
    result = bus.dispatch(Ping(text="x"))
    assert result.value == 4 and len(result.events) == 4
    snapshot = store.load_snapshot("order-o-9")
    assert snapshot is not None and snapshot.version == 4
