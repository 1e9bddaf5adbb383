"""Reference solutions for notebook 01 (events as facts). Keys match ``course_lib.exercises.nb01.CHECKS``."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import StringConstraints

from course_lib.messages import Event

AddressPart = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class OrderDeliveryAddressChanged(Event):
    """The customer changed where a draft order should be delivered; no part of the new address may be empty."""

    order_id: str
    street: AddressPart
    city: AddressPart
    postcode: AddressPart


ANSWERS: dict[str, Any] = {"event_design": OrderDeliveryAddressChanged}
