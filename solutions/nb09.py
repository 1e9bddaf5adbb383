"""Reference solutions for notebook 09 (sagas). Keys match ``course_lib.exercises.nb09.CHECKS``."""

from __future__ import annotations

from typing import Any

from course_lib.sagas import SagaDefinition, Step, StepContext
from course_lib.shop.services import GiftWrapService


def add_gift_wrap(saga: SagaDefinition, giftwrap: GiftWrapService) -> SagaDefinition:
    """The order saga with a ``wrap_gift`` step (and its compensation) right after the payment."""

    def wrap(ctx: StepContext) -> dict[str, Any]:
        return {"wrapping_id": giftwrap.wrap(ctx.data["order_id"], key=ctx.idempotency_key)}

    def unwrap(ctx: StepContext) -> None:
        giftwrap.unwrap(ctx.data["order_id"], key=ctx.idempotency_key)

    return saga.insert_after("charge_payment", Step("wrap_gift", wrap, unwrap, compensation_name="unwrap_gift"))


ANSWERS: dict[str, Any] = {"gift_wrap": add_gift_wrap}
