"""Wrong answers to notebook 01's exercise."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints

from course_lib.messages import Command, Event
from solutions.wrong import Wrong

Part = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class OrderUpdated(Event):
    """Too vague: which change?"""

    order_id: str
    street: Part
    city: Part


class ChangeDeliveryAddress(Event):
    """Named like a command."""

    order_id: str
    street: Part
    city: Part


class OrderDeliveryAddressChanged(Event):
    """No validation: an empty city is accepted."""

    order_id: str
    street: str
    city: str


class OnlyNotEmpty(Event):
    """``min_length=1`` lets a blank '   ' through."""

    order_id: str
    delivery_street: str = Field(min_length=1)
    delivery_city: str = Field(min_length=1)


OnlyNotEmpty.__name__ = "OrderDeliveryAddressChanged"


class EditableAddressChanged(Event):
    """Unfrozen: a fact that can be edited afterwards."""

    model_config = ConfigDict(frozen=False, extra="forbid")
    order_id: str
    address: Part


EditableAddressChanged.__name__ = "OrderAddressChanged"


class DeliveryAddressChanged(Event):
    """Which order?"""

    street: Part
    city: Part


class ChangeTheAddress(Command):
    """A command, not an event."""

    order_id: str
    address: str


WRONG = {"event_design": [
    Wrong("a vague name that could be any change", OrderUpdated),
    Wrong("a command-like name", ChangeDeliveryAddress),
    Wrong("no validation", OrderDeliveryAddressChanged),
    Wrong("validation that lets a blank through", OnlyNotEmpty),
    Wrong("mutable", EditableAddressChanged),
    Wrong("no order id", DeliveryAddressChanged),
    Wrong("a Command", ChangeTheAddress),
    Wrong("an instance instead of the class", "OrderDeliveryAddressChanged"),
]}

GIVEAWAYS = {"event_design": ("OrderDeliveryAddressChanged(", "StringConstraints", "strip_whitespace")}
