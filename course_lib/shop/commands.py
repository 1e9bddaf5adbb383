"""The shop's commands and their handlers for the ``CommandBus``.

A handler loads the ``Order`` aggregate, calls one of its command methods (which checks the rules and records
events) and appends those events through the context, which makes them carry the command's correlation id.
A broken rule raises ``OrderRuleBroken``; an unknown order raises ``AggregateNotFound``.
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic import Field

from course_lib.aggregates import AggregateNotFound, Repository
from course_lib.buses import CommandBus, CommandContext
from course_lib.errors import CourseError
from course_lib.messages import Command, registry
from course_lib.shop.order import Order, OrderRuleBroken

__all__ = [
    "AddItem", "AggregateNotFound", "CancelOrder", "OrderRuleBroken", "PayOrder", "PlaceOrder", "RemoveItem",
    "SubmitOrder", "order_stream", "register_shop_handlers",
]


@registry.register
class PlaceOrder(Command):
    order_id: str = Field(min_length=1)
    customer_id: str = Field(min_length=1)


@registry.register
class AddItem(Command):
    order_id: str = Field(min_length=1)
    sku: str = Field(min_length=1)
    quantity: int = Field(gt=0)
    unit_price_cents: int = Field(ge=0)


@registry.register
class RemoveItem(Command):
    order_id: str = Field(min_length=1)
    sku: str = Field(min_length=1)


@registry.register
class SubmitOrder(Command):
    order_id: str = Field(min_length=1)


@registry.register
class PayOrder(Command):
    order_id: str = Field(min_length=1)
    payment_id: str = Field(min_length=1)


@registry.register
class CancelOrder(Command):
    order_id: str = Field(min_length=1)
    reason: str = Field(min_length=1)


def order_stream(order_id: str) -> str:
    """The stream that holds one order's history."""
    return Order.stream_id_for(order_id)


def _repository(ctx: CommandContext) -> Repository[Order]:
    if ctx.store is None:
        raise CourseError("The shop's handlers need an event store: create the bus with CommandBus(store).")
    return Repository(ctx.store, Order, clock=ctx.clock, ids=ctx.ids)


def _change(ctx: CommandContext, order_id: str, change: Callable[[Order], object]) -> Order:
    """Load the order, run one of its command methods, save what it recorded."""
    repository = _repository(ctx)
    order = repository.load(order_id)
    change(order)
    ctx.save(repository, order)
    return order


def place_order(cmd: PlaceOrder, ctx: CommandContext) -> str:
    """Create the order; ``ConcurrencyError`` if the id is taken (the stream must not exist)."""
    ctx.save(_repository(ctx), Order.create(cmd.order_id, cmd.customer_id))
    return cmd.order_id


def add_item(cmd: AddItem, ctx: CommandContext) -> None:
    """Add a line to a draft order."""
    _change(ctx, cmd.order_id, lambda o: o.add_item(cmd.sku, cmd.quantity, cmd.unit_price_cents))


def remove_item(cmd: RemoveItem, ctx: CommandContext) -> None:
    """Remove a line from a draft order."""
    _change(ctx, cmd.order_id, lambda o: o.remove_item(cmd.sku))


def submit_order(cmd: SubmitOrder, ctx: CommandContext) -> int:
    """Submit a draft order that has items; returns its total in cents."""
    return _change(ctx, cmd.order_id, lambda o: o.submit()).total_cents


def pay_order(cmd: PayOrder, ctx: CommandContext) -> None:
    """Record payment of a submitted order's full total."""
    _change(ctx, cmd.order_id, lambda o: o.pay(o.total_cents, cmd.payment_id))


def cancel_order(cmd: CancelOrder, ctx: CommandContext) -> None:
    """Cancel an order that has not shipped."""
    _change(ctx, cmd.order_id, lambda o: o.cancel(cmd.reason))


def register_shop_handlers(bus: CommandBus) -> CommandBus:
    """Register every shop command's handler on ``bus``; returns the bus."""
    bus.register(PlaceOrder, place_order)
    bus.register(AddItem, add_item)
    bus.register(RemoveItem, remove_item)
    bus.register(SubmitOrder, submit_order)
    bus.register(PayOrder, pay_order)
    bus.register(CancelOrder, cancel_order)
    return bus
