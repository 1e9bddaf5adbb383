"""Notebook 03's exercises: rebuild state by folding events, and decide/evolve for a new aggregate.

``cart``: the learner writes ``cart(events) -> dict[str, int]`` (sku → quantity) from ``OrderItemAdded`` and
``OrderItemRemoved`` events, ignoring the others. The check compares it with the ``Order`` aggregate on several
histories, including one where a sku is added twice and one where it is removed and added again.

``gift_card``: the learner writes the two functions of a new aggregate, a gift card, in the functional style:
``decide(state, command) -> list[Event]`` (check the rules against the current state; refuse with
``GiftCardRefused``) and ``evolve(state, event) -> GiftCardState`` (apply one event, returning a new state). The
check folds histories with ``evolve`` and sends commands through ``decide`` — every rule, each edge.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from course_lib.exercises import Check, CheckResult, Hints, exercise, not_attempted, solved, wrong
from course_lib.messages import Command, Event
from course_lib.shop.events import OrderCreated, OrderItemAdded, OrderItemRemoved, OrderSubmitted
from course_lib.shop.order import Order

CART_HINTS = Hints(
    concept="State is a fold over the events: start from the empty state and let each event, in order, change "
            "it. Events the state does not care about change nothing.",
    approach="Loop over the events once. An added item increases what that sku already had (it may have had "
             "nothing yet); a removed item takes the sku out of the cart altogether.",
    skeleton="def cart(events):\n    items = {}\n    for event in events:\n        if isinstance(event, "
             "OrderItemAdded):\n            ...\n        elif isinstance(event, OrderItemRemoved):\n            ...\n"
             "    return items",
)


def _add(sku: str, quantity: int) -> OrderItemAdded:
    return OrderItemAdded(order_id="o1", sku=sku, quantity=quantity, unit_price_cents=100)


HISTORIES: list[list[Event]] = [
    [OrderCreated(order_id="o1", customer_id="c1")],
    [OrderCreated(order_id="o1", customer_id="c1"), _add("mug", 2), _add("tea", 1)],
    [OrderCreated(order_id="o1", customer_id="c1"), _add("mug", 2), _add("mug", 3), _add("tea", 1)],
    [OrderCreated(order_id="o1", customer_id="c1"), _add("mug", 2), OrderItemRemoved(order_id="o1", sku="mug"),
     _add("tea", 4), _add("mug", 1), OrderSubmitted(order_id="o1", total_cents=500)],
    [OrderCreated(order_id="o1", customer_id="c1"), _add("mug", 2), _add("tea", 1),
     OrderItemRemoved(order_id="o1", sku="tea")],
]


def expected_cart(events: list[Event]) -> dict[str, int]:
    """What the Order aggregate says the cart holds after ``events``."""
    order = Order.rehydrate("o1", events)
    return {sku: line["quantity"] for sku, line in order.items.items()}


@exercise("nb03.cart", title="fold item events into a cart", level="★", minutes=8, hints=CART_HINTS)
def check_cart(cart: Any) -> CheckResult:
    """Compare the learner's fold with the Order aggregate on several histories."""
    if cart is None:
        return not_attempted("write cart(events) -> dict[str, int]")
    if not callable(cart):
        return wrong(f"cart must be a function, got {type(cart).__name__}")
    for number, history in enumerate(HISTORIES, start=1):
        expected = expected_cart(history)
        got = cart(list(history))
        if got != expected:
            names = ", ".join(type(e).__name__ for e in history)
            return wrong(f"history {number} ({names}): expected {expected}, got {got!r}")
    return solved(f"your fold agrees with the Order aggregate on all {len(HISTORIES)} histories")


# --- a new aggregate: the gift card, written as decide/evolve ------------------------------------------------


class IssueGiftCard(Command):
    """Please put ``amount_cents`` on a new card."""

    card_id: str
    amount_cents: int


class RedeemGiftCard(Command):
    """Please pay ``amount_cents`` with the card."""

    card_id: str
    amount_cents: int


class CancelGiftCard(Command):
    """Please cancel the card (what is left on it is forfeited)."""

    card_id: str


class GiftCardIssued(Event):
    """A card was issued with an opening balance."""

    card_id: str
    amount_cents: int


class GiftCardRedeemed(Event):
    """Part of the balance paid for something."""

    card_id: str
    amount_cents: int


class GiftCardCancelled(Event):
    """The card was cancelled; ``remaining_cents`` is what was still on it."""

    card_id: str
    remaining_cents: int


class GiftCardRefused(Exception):
    """A command broke one of the gift card's rules; nothing happened."""


@dataclass(frozen=True)
class GiftCardState:
    """What the card knows about itself; the empty state is a card that was never issued."""

    issued: bool = False
    balance_cents: int = 0
    cancelled: bool = False


GIFT_CARD_RULES = """\
- IssueGiftCard: only once per card, and the amount must be more than 0.
- RedeemGiftCard: only on an issued card that is not cancelled; the amount must be more than 0 and at most
  the balance (paying with the whole balance is fine).
- CancelGiftCard: only on an issued card that is not cancelled yet; the event says how much was left on it.
"""

GIFT_CARD_HINTS = Hints(
    concept="An aggregate is two functions. decide looks at the current state and a command, checks the rules and "
            "answers with the events that happen (or refuses) — it changes nothing. evolve applies one event to a "
            "state and returns the next state; it never refuses, because the event already happened.",
    approach="decide: one branch per command type; in each, test the rules against state and raise "
             "GiftCardRefused when one is broken, otherwise return a list with the event. evolve: one branch per "
             "event type, returning a new GiftCardState (dataclasses.replace) with the fields that event changes.",
    skeleton="def decide(state, command):\n    if isinstance(command, IssueGiftCard):\n        if ...:\n"
             "            raise GiftCardRefused('...')\n        return [GiftCardIssued(...)]\n"
             "    if isinstance(command, RedeemGiftCard):\n        ...\n    if isinstance(command, CancelGiftCard):\n"
             "        ...\n\ndef evolve(state, event):\n    if isinstance(event, GiftCardIssued):\n"
             "        return replace(state, ...)\n    ...\n    return state",
)

_C = "card-1"


def _fold(evolve: Callable[[GiftCardState, Event], GiftCardState], events: list[Event]) -> GiftCardState:
    state = GiftCardState()
    for event in events:
        state = evolve(state, event)
    return state


_ISSUED = GiftCardIssued(card_id=_C, amount_cents=5000)
EVOLVE_CASES: list[tuple[list[Event], GiftCardState, str]] = [
    ([], GiftCardState(), "no events"),
    ([_ISSUED], GiftCardState(True, 5000, False), "an issued card"),
    ([_ISSUED, GiftCardRedeemed(card_id=_C, amount_cents=1200), GiftCardRedeemed(card_id=_C, amount_cents=800)],
     GiftCardState(True, 3000, False), "two redemptions"),
    ([_ISSUED, GiftCardRedeemed(card_id=_C, amount_cents=1000), GiftCardCancelled(card_id=_C, remaining_cents=4000)],
     GiftCardState(True, 0, True), "a cancelled card"),
]

_REDEEMED = [_ISSUED, GiftCardRedeemed(card_id=_C, amount_cents=1200)]
_CANCELLED = [*_REDEEMED, GiftCardCancelled(card_id=_C, remaining_cents=3800)]
DECIDE_CASES: list[tuple[list[Event], Command, list[Event] | None, str]] = [
    # history, command, the events it must produce (None: it must be refused), what the case is about
    ([], IssueGiftCard(card_id=_C, amount_cents=5000), [_ISSUED], "issuing a new card"),
    ([_ISSUED], IssueGiftCard(card_id=_C, amount_cents=100), None, "issuing the same card twice"),
    ([], IssueGiftCard(card_id=_C, amount_cents=0), None, "issuing a card worth 0"),
    (_REDEEMED, RedeemGiftCard(card_id=_C, amount_cents=500), [GiftCardRedeemed(card_id=_C, amount_cents=500)],
     "redeeming part of the balance"),
    (_REDEEMED, RedeemGiftCard(card_id=_C, amount_cents=3800), [GiftCardRedeemed(card_id=_C, amount_cents=3800)],
     "redeeming exactly the whole balance"),
    (_REDEEMED, RedeemGiftCard(card_id=_C, amount_cents=3801), None, "redeeming 1 cent more than the balance"),
    ([], RedeemGiftCard(card_id=_C, amount_cents=100), None, "redeeming on a card never issued"),
    (_REDEEMED, RedeemGiftCard(card_id=_C, amount_cents=0), None, "redeeming 0"),
    (_CANCELLED, RedeemGiftCard(card_id=_C, amount_cents=100), None, "redeeming on a cancelled card"),
    (_REDEEMED, CancelGiftCard(card_id=_C), [GiftCardCancelled(card_id=_C, remaining_cents=3800)],
     "cancelling a card with 3800 left"),
    (_CANCELLED, CancelGiftCard(card_id=_C), None, "cancelling a card twice"),
    ([], CancelGiftCard(card_id=_C), None, "cancelling a card never issued"),
]


@exercise("nb03.gift_card", title="decide/evolve for a new aggregate: a gift card", level="★★★", minutes=25,
          hints=GIFT_CARD_HINTS)
def check_gift_card(answer: Any) -> CheckResult:
    """``answer`` is ``(decide, evolve)``: fold histories with evolve, then check every rule through decide."""
    if answer is None or answer == (None, None):
        return not_attempted("write decide(state, command) and evolve(state, event), then set "
                             "`gift_card = (decide, evolve)`")
    if not (isinstance(answer, tuple) and len(answer) == 2 and all(callable(f) for f in answer)):
        return wrong(f"gift_card must be the pair of functions (decide, evolve), got {answer!r}")
    decide, evolve = answer
    for events, expected, about in EVOLVE_CASES:
        got = _fold(evolve, list(events))
        if not isinstance(got, GiftCardState):
            return wrong(f"evolve returned {got!r} for {about}: return the next GiftCardState")
        if got != expected:
            return wrong(f"folding {about} with evolve gave {got}; expected {expected}")
    for events, command, expected_events, about in DECIDE_CASES:
        state = _fold(evolve, list(events))
        try:
            produced = decide(state, command)
        except GiftCardRefused:
            if expected_events is not None:
                return wrong(f"{about}: decide refused a command the rules allow")
            continue
        if expected_events is None:
            return wrong(f"{about}: decide accepted it and returned {produced!r}, but the rules forbid it")
        if isinstance(produced, GiftCardState):
            return wrong(f"{about}: decide returned a state; it must return the list of events that happen")
        if list(produced) != expected_events:
            return wrong(f"{about}: decide returned {produced!r}; expected {expected_events}")
        if _fold(evolve, list(events)) != state:
            return wrong(f"{about}: decide changed the state it was given; it must only return events")
    return solved(f"evolve folds all {len(EVOLVE_CASES)} histories and decide handles all {len(DECIDE_CASES)} "
                  "commands: exact balance allowed, one cent over refused, nothing after cancellation")


CHECKS: dict[str, Check] = {"cart": check_cart, "gift_card": check_gift_card}
