"""Wrong answers to notebook 03's exercises."""

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
from solutions.nb03 import decide as right_decide
from solutions.nb03 import evolve as right_evolve
from solutions.wrong import Wrong


def cart_overwrites(events: Iterable[Event]) -> dict[str, int]:
    items: dict[str, int] = {}
    for e in events:
        if isinstance(e, OrderItemAdded):
            items[e.sku] = e.quantity  # a second add replaces instead of adding
        elif isinstance(e, OrderItemRemoved):
            items.pop(e.sku, None)
    return items


def cart_ignores_removal(events: Iterable[Event]) -> dict[str, int]:
    items: dict[str, int] = {}
    for e in events:
        if isinstance(e, OrderItemAdded):
            items[e.sku] = items.get(e.sku, 0) + e.quantity
    return items


def cart_removal_leaves_zero(events: Iterable[Event]) -> dict[str, int]:
    items: dict[str, int] = {}
    for e in events:
        if isinstance(e, OrderItemAdded):
            items[e.sku] = items.get(e.sku, 0) + e.quantity
        elif isinstance(e, OrderItemRemoved):
            items[e.sku] = 0  # an empty entry stays behind
    return items


def cart_removes_one(events: Iterable[Event]) -> dict[str, int]:
    items: dict[str, int] = {}
    for e in events:
        if isinstance(e, OrderItemAdded):
            items[e.sku] = items.get(e.sku, 0) + e.quantity
        elif isinstance(e, OrderItemRemoved) and e.sku in items:
            items[e.sku] -= 1  # takes one unit, not the line
            if items[e.sku] == 0:
                del items[e.sku]
    return items


def cart_first_event_skipped(events: Iterable[Event]) -> dict[str, int]:
    items: dict[str, int] = {}
    for e in list(events)[2:]:  # off by one: starts after the first item
        if isinstance(e, OrderItemAdded):
            items[e.sku] = items.get(e.sku, 0) + e.quantity
        elif isinstance(e, OrderItemRemoved):
            items.pop(e.sku, None)
    return items


def decide_strictly_less(state: GiftCardState, command: Command) -> list[Event]:
    if isinstance(command, RedeemGiftCard) and command.amount_cents >= state.balance_cents:
        raise GiftCardRefused("not enough")  # off by one: the whole balance cannot be spent
    return right_decide(state, command)


def decide_no_balance_check(state: GiftCardState, command: Command) -> list[Event]:
    if isinstance(command, RedeemGiftCard):
        if not state.issued or state.cancelled or command.amount_cents <= 0:
            raise GiftCardRefused("no")
        return [GiftCardRedeemed(card_id=command.card_id, amount_cents=command.amount_cents)]
    return right_decide(state, command)


def decide_forgets_cancelled(state: GiftCardState, command: Command) -> list[Event]:
    if isinstance(command, RedeemGiftCard):
        if not state.issued or not 0 < command.amount_cents <= state.balance_cents:
            raise GiftCardRefused("no")
        return [GiftCardRedeemed(card_id=command.card_id, amount_cents=command.amount_cents)]
    if isinstance(command, CancelGiftCard):
        if not state.issued:
            raise GiftCardRefused("no")
        return [GiftCardCancelled(card_id=command.card_id, remaining_cents=state.balance_cents)]
    return right_decide(state, command)


def decide_returns_state(state: GiftCardState, command: Command) -> Any:
    events = right_decide(state, command)
    for event in events:
        state = right_evolve(state, event)
    return state  # the new state instead of the events


def decide_cancel_says_nothing_left(state: GiftCardState, command: Command) -> list[Event]:
    if isinstance(command, CancelGiftCard):
        right_decide(state, command)
        return [GiftCardCancelled(card_id=command.card_id, remaining_cents=0)]
    return right_decide(state, command)


def decide_issue_twice(state: GiftCardState, command: Command) -> list[Event]:
    if isinstance(command, IssueGiftCard):
        return [GiftCardIssued(card_id=command.card_id, amount_cents=command.amount_cents)]  # no rule checked
    return right_decide(state, command)


def evolve_adds_redemptions(state: GiftCardState, event: Event) -> GiftCardState:
    if isinstance(event, GiftCardRedeemed):
        return replace(state, balance_cents=state.balance_cents + event.amount_cents)  # wrong sign
    return right_evolve(state, event)


def evolve_keeps_balance_on_cancel(state: GiftCardState, event: Event) -> GiftCardState:
    if isinstance(event, GiftCardCancelled):
        return replace(state, cancelled=True)  # the forfeited balance stays on the card
    return right_evolve(state, event)


def evolve_ignores_cancel(state: GiftCardState, event: Event) -> GiftCardState:
    if isinstance(event, GiftCardCancelled):
        return state
    return right_evolve(state, event)


WRONG = {
    "cart": [
        Wrong("a second add overwrites", cart_overwrites),
        Wrong("removal ignored", cart_ignores_removal),
        Wrong("removal leaves an empty entry", cart_removal_leaves_zero),
        Wrong("removal takes one unit", cart_removes_one),
        Wrong("skips the first item event", cart_first_event_skipped),
    ],
    "gift_card": [
        Wrong("the whole balance cannot be redeemed (off by one)", (decide_strictly_less, right_evolve)),
        Wrong("redeems more than the balance", (decide_no_balance_check, right_evolve)),
        Wrong("a cancelled card still pays and cancels again", (decide_forgets_cancelled, right_evolve)),
        Wrong("decide returns the new state", (decide_returns_state, right_evolve)),
        Wrong("the cancellation says nothing was left", (decide_cancel_says_nothing_left, right_evolve)),
        Wrong("issues the same card twice", (decide_issue_twice, right_evolve)),
        Wrong("evolve adds redemptions", (right_decide, evolve_adds_redemptions)),
        Wrong("evolve keeps the balance of a cancelled card", (right_decide, evolve_keeps_balance_on_cancel)),
        Wrong("evolve ignores the cancellation", (right_decide, evolve_ignores_cancel)),
        Wrong("the functions swapped", (right_evolve, right_decide)),
    ],
}

GIVEAWAYS = {
    "cart": ("items.get(event.sku, 0) + event.quantity", "items.pop(event.sku"),
    "gift_card": ("0 < command.amount_cents <= state.balance_cents", "balance_cents - event.amount_cents",
                  "remaining_cents=state.balance_cents"),
}
