"""Reference solutions for notebook 01 (events as facts). Keys match ``course_lib.exercises.nb01.CHECKS``."""

from __future__ import annotations

from typing import Any

from course_lib.messages import Event


class OrderDeliveryAddressChanged(Event):
    """The customer changed where a draft order should be delivered."""

    order_id: str
    street: str
    city: str
    postcode: str


ANSWERS: dict[str, Any] = {"event_design": OrderDeliveryAddressChanged}
