"""Reference solutions for notebook 03 (aggregates and snapshots). Keys match ``course_lib.exercises.nb03.CHECKS``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from course_lib.exercises.nb03 import (
    CancelGiftCard,
    GiftCardCancelled,
    GiftCardIssued,
    GiftCardRedeemed,
    GiftCardRefused,
    GiftCardState,
    IssueGiftCard,
    RedeemGiftCard,
)
from course_lib.messages import Command, Event
from course_lib.shop.events import OrderItemAdded, OrderItemRemoved


def cart(events: Iterable[Event]) -> dict[str, int]:
    """sku → quantity, folded from the item events."""
    items: dict[str, int] = {}
    for event in events:
        if isinstance(event, OrderItemAdded):
            items[event.sku] = items.get(event.sku, 0) + event.quantity
        elif isinstance(event, OrderItemRemoved):
            items.pop(event.sku, None)
    return items


def decide(state: GiftCardState, command: Command) -> list[Event]:
    """The gift card's rules: the events a command causes, or GiftCardRefused."""
    if isinstance(command, IssueGiftCard):
        if state.issued:
            raise GiftCardRefused("the card was issued already")
        if command.amount_cents <= 0:
            raise GiftCardRefused("a card must be issued with more than 0")
        return [GiftCardIssued(card_id=command.card_id, amount_cents=command.amount_cents)]
    if isinstance(command, RedeemGiftCard):
        if not state.issued or state.cancelled:
            raise GiftCardRefused("only an issued, active card can be redeemed")
        if not 0 < command.amount_cents <= state.balance_cents:
            raise GiftCardRefused(f"can redeem 1 to {state.balance_cents} cents, not {command.amount_cents}")
        return [GiftCardRedeemed(card_id=command.card_id, amount_cents=command.amount_cents)]
    if isinstance(command, CancelGiftCard):
        if not state.issued or state.cancelled:
            raise GiftCardRefused("only an issued, active card can be cancelled")
        return [GiftCardCancelled(card_id=command.card_id, remaining_cents=state.balance_cents)]
    raise GiftCardRefused(f"unknown command {type(command).__name__}")


def evolve(state: GiftCardState, event: Event) -> GiftCardState:
    """The next state after one event; never refuses — the event already happened."""
    if isinstance(event, GiftCardIssued):
        return replace(state, issued=True, balance_cents=event.amount_cents)
    if isinstance(event, GiftCardRedeemed):
        return replace(state, balance_cents=state.balance_cents - event.amount_cents)
    if isinstance(event, GiftCardCancelled):
        return replace(state, balance_cents=0, cancelled=True)
    return state


GIFT_CARD = (decide, evolve)

ANSWERS: dict[str, Any] = {"cart": cart, "gift_card": GIFT_CARD}
