"""Wrong answers to notebook 09's exercise."""

from __future__ import annotations

import uuid
from typing import Any

from course_lib.sagas import SagaDefinition, Step, StepContext
from course_lib.shop.services import GiftWrapService
from solutions.wrong import Wrong


def _wrap_step(giftwrap: GiftWrapService, *, fresh_key: bool = False, compensate: bool = True,
               undo_with_wrap: bool = False) -> Step:
    def key(ctx: StepContext) -> str:
        return uuid.uuid4().hex if fresh_key else ctx.idempotency_key

    def wrap(ctx: StepContext) -> dict[str, Any]:
        return {"wrapping_id": giftwrap.wrap(ctx.data["order_id"], key=key(ctx))}

    def unwrap(ctx: StepContext) -> None:
        if undo_with_wrap:
            giftwrap.wrap(ctx.data["order_id"], key=key(ctx) + "-undo")
        else:
            giftwrap.unwrap(ctx.data["order_id"], key=key(ctx))

    return Step("wrap_gift", wrap, unwrap if compensate else None)


def fresh_key_per_try(saga: SagaDefinition, giftwrap: GiftWrapService) -> SagaDefinition:
    return saga.insert_after("charge_payment", _wrap_step(giftwrap, fresh_key=True))


def no_compensation(saga: SagaDefinition, giftwrap: GiftWrapService) -> SagaDefinition:
    return saga.insert_after("charge_payment", _wrap_step(giftwrap, compensate=False))


def compensation_wraps_again(saga: SagaDefinition, giftwrap: GiftWrapService) -> SagaDefinition:
    return saga.insert_after("charge_payment", _wrap_step(giftwrap, undo_with_wrap=True))


def before_the_payment(saga: SagaDefinition, giftwrap: GiftWrapService) -> SagaDefinition:
    return saga.insert_after("reserve_inventory", _wrap_step(giftwrap))


def after_the_shipment(saga: SagaDefinition, giftwrap: GiftWrapService) -> SagaDefinition:
    return saga.insert_after("create_shipment", _wrap_step(giftwrap))


def returns_the_step(saga: SagaDefinition, giftwrap: GiftWrapService) -> Any:
    return _wrap_step(giftwrap)


WRONG = {"gift_wrap": [
    Wrong("a fresh idempotency key on every try", fresh_key_per_try),
    Wrong("no compensation", no_compensation),
    Wrong("the compensation wraps again", compensation_wraps_again),
    Wrong("the step before the payment", before_the_payment),
    Wrong("the step after the shipment", after_the_shipment),
    Wrong("returns the step, not the saga", returns_the_step),
]}

GIVEAWAYS = {"gift_wrap": ("key=ctx.idempotency_key", 'insert_after("charge_payment"',
                           "insert_after('charge_payment'")}
