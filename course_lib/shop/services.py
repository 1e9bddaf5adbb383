"""The shop's small in-process services — inventory, payment, shipping, notifications — with injectable faults.

They stand in for remote services a saga calls. Two properties matter for the lessons:

- **Idempotency keys.** Every call carries a key; a second call with the same key returns the first call's result
  and has no second effect. That is what makes a retry after a timeout safe.
- **Faults** come from a ``FaultInjector`` driven by a seeded ``random.Random``: a declined card, missing stock or
  any other refusal (``rejected``: a *business* failure — retrying will not help), a refused connection
  (``unavailable``: nothing happened, a retry may work), a timeout (the effect *happened* but the reply was lost — the
  nasty case), or a crash of the caller (``SimulatedCrash``, a ``BaseException`` no ``except Exception`` swallows).

The services keep their state in memory and survive a "crash" of the orchestrator, just as a real payment
provider keeps your charge when your process dies.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from course_lib.errors import CourseError

FaultKind = Literal["declined", "out_of_stock", "rejected", "timeout", "unavailable", "crash"]
FAULT_KINDS: tuple[FaultKind, ...] = ("declined", "out_of_stock", "rejected", "timeout", "unavailable", "crash")


class ServiceError(CourseError):
    """A remote call failed. ``transient`` says whether retrying can help."""

    transient = True


class BusinessRuleViolation(ServiceError):
    """The service said no (card declined, out of stock). Retrying the same request gets the same answer."""

    transient = False


class CardDeclined(BusinessRuleViolation):
    """The card was declined."""


class OutOfStock(BusinessRuleViolation):
    """Not enough stock for the reservation."""


class ServiceTimeout(ServiceError):
    """No reply in time. The effect may or may not have happened — only an idempotency key makes a retry safe."""


class ServiceOutage(ServiceError):
    """The service refused the connection; nothing happened."""


class SimulatedCrash(BaseException):
    """The calling process dies here. A ``BaseException`` so that ``except Exception`` cannot swallow it."""


@dataclass
class _Rule:
    operation: str
    kind: FaultKind
    remaining: int | None  # None: every time
    probability: float = 1.0


class FaultInjector:
    """Decides, per call, whether an operation fails and how. Seeded, so a run can be repeated exactly."""

    def __init__(self, seed: int = 0) -> None:
        self.random = random.Random(seed)
        self._rules: list[_Rule] = []
        self.injected: list[tuple[str, FaultKind]] = []

    def fail(self, operation: str, kind: FaultKind, *, times: int | None = 1, probability: float = 1.0) -> None:
        """Make ``operation`` (e.g. ``"payment.charge"``) fail with ``kind``, ``times`` times (None: always)."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; choose one of {', '.join(FAULT_KINDS)}")
        if not 0.0 <= probability <= 1.0:
            raise ValueError(f"probability must be between 0 and 1, got {probability}")
        self._rules.append(_Rule(operation, kind, times, probability))

    def clear(self) -> None:
        """Remove every rule (the record of injected faults stays)."""
        self._rules.clear()

    def draw(self, operation: str) -> FaultKind | None:
        """The fault for this call of ``operation``, or None."""
        for rule in self._rules:
            if rule.operation != operation or rule.remaining == 0:
                continue
            if rule.probability < 1.0 and self.random.random() >= rule.probability:
                continue
            if rule.remaining is not None:
                rule.remaining -= 1
            self.injected.append((operation, rule.kind))
            return rule.kind
        return None


def _raise_before(operation: str, kind: FaultKind | None) -> None:
    """Faults that strike before the effect: nothing happened."""
    if kind == "crash":
        raise SimulatedCrash(f"process died while calling {operation}")
    if kind == "unavailable":
        raise ServiceOutage(f"{operation}: connection refused")
    if kind == "declined":
        raise CardDeclined(f"{operation}: card declined")
    if kind == "out_of_stock":
        raise OutOfStock(f"{operation}: out of stock")
    if kind == "rejected":
        raise BusinessRuleViolation(f"{operation}: request rejected")


class _IdempotentService:
    """Remembers each idempotency key's result; a repeated key replays it without a second effect."""

    name = "service"

    def __init__(self, faults: FaultInjector) -> None:
        self.faults = faults
        self._results: dict[str, Any] = {}
        self.calls = 0
        self.replays = 0

    def _call(self, operation: str, key: str, effect: Callable[[], Any]) -> Any:
        self.calls += 1
        qualified = f"{self.name}.{operation}"
        kind = self.faults.draw(qualified)
        _raise_before(qualified, kind)
        if key in self._results:
            self.replays += 1
            result = self._results[key]
        else:
            result = effect()
            self._results[key] = result
        if kind == "timeout":  # the effect happened; the reply is lost on the way back
            raise ServiceTimeout(f"{qualified}: no reply within the deadline (the call may have succeeded)")
        return result


class InventoryService(_IdempotentService):
    """Stock per SKU; reservations per order."""

    name = "inventory"

    def __init__(self, faults: FaultInjector, stock: dict[str, int] | None = None) -> None:
        super().__init__(faults)
        self.stock: dict[str, int] = dict(stock or {"mug": 10, "tee": 5, "poster": 2})
        self.reservations: dict[str, dict[str, int]] = {}

    def reserve(self, order_id: str, items: dict[str, int], *, key: str) -> str:
        """Reserve ``items`` for an order; ``OutOfStock`` when any SKU is short. Returns a reservation id."""

        def effect() -> str:
            short = [sku for sku, qty in items.items() if self.stock.get(sku, 0) < qty]
            if short:
                raise OutOfStock(f"inventory.reserve: not enough {', '.join(short)} for order {order_id}")
            for sku, qty in items.items():
                self.stock[sku] -= qty
            self.reservations[order_id] = dict(items)
            return f"res-{order_id}"

        return str(self._call("reserve", key, effect))

    def release(self, order_id: str, *, key: str) -> bool:
        """Give an order's reserved stock back. True when something was released."""

        def effect() -> bool:
            items = self.reservations.pop(order_id, None)
            for sku, qty in (items or {}).items():
                self.stock[sku] += qty
            return items is not None

        return bool(self._call("release", key, effect))


class PaymentService(_IdempotentService):
    """Charges and refunds; ``charges`` lists every charge ever made, so a double charge is visible."""

    name = "payment"

    def __init__(self, faults: FaultInjector) -> None:
        super().__init__(faults)
        self.charges: list[tuple[str, int]] = []
        self.refunds: list[tuple[str, int]] = []

    def charge(self, order_id: str, amount_cents: int, *, key: str) -> str:
        """Charge the customer; ``CardDeclined`` when the card is declined. Returns a payment id."""

        def effect() -> str:
            self.charges.append((order_id, amount_cents))
            return f"pay-{order_id}-{len(self.charges)}"

        return str(self._call("charge", key, effect))

    def refund(self, order_id: str, amount_cents: int, *, key: str) -> None:
        """Refund a charge."""
        self._call("refund", key, lambda: self.refunds.append((order_id, amount_cents)))

    def balance(self, order_id: str) -> int:
        """Charged minus refunded for one order, in cents."""
        charged = sum(a for o, a in self.charges if o == order_id)
        return charged - sum(a for o, a in self.refunds if o == order_id)


class ShippingService(_IdempotentService):
    """Shipments per order."""

    name = "shipping"

    def __init__(self, faults: FaultInjector) -> None:
        super().__init__(faults)
        self.shipments: dict[str, str] = {}
        self.cancelled: list[str] = []

    def create_shipment(self, order_id: str, *, key: str) -> str:
        """Book a shipment; returns its tracking number."""

        def effect() -> str:
            tracking = f"trk-{order_id}"
            self.shipments[order_id] = tracking
            return tracking

        return str(self._call("create_shipment", key, effect))

    def cancel_shipment(self, order_id: str, *, key: str) -> None:
        """Cancel an order's shipment."""

        def effect() -> None:
            if self.shipments.pop(order_id, None) is not None:
                self.cancelled.append(order_id)

        self._call("cancel_shipment", key, effect)


class NotificationService(_IdempotentService):
    """Messages sent to customers."""

    name = "notifications"

    def __init__(self, faults: FaultInjector) -> None:
        super().__init__(faults)
        self.sent: list[tuple[str, str]] = []

    def send(self, order_id: str, text: str, *, key: str) -> None:
        """Send a message about an order."""
        self._call("send", key, lambda: self.sent.append((order_id, text)))


class GiftWrapService(_IdempotentService):
    """Gift wrapping, for orders that ask for it (notebook 09's exercise adds it to the saga)."""

    name = "giftwrap"

    def __init__(self, faults: FaultInjector) -> None:
        super().__init__(faults)
        self.wrapped: list[str] = []
        self.unwrapped: list[str] = []

    def wrap(self, order_id: str, *, key: str) -> str:
        """Wrap an order's items; returns a wrapping id."""

        def effect() -> str:
            self.wrapped.append(order_id)
            return f"wrap-{order_id}"

        return str(self._call("wrap", key, effect))

    def unwrap(self, order_id: str, *, key: str) -> None:
        """Take the wrapping off again."""
        self._call("unwrap", key, lambda: self.unwrapped.append(order_id))


@dataclass
class Shop:
    """The four services sharing one fault injector."""

    faults: FaultInjector = field(default_factory=FaultInjector)
    inventory: InventoryService = field(init=False)
    payment: PaymentService = field(init=False)
    shipping: ShippingService = field(init=False)
    notifications: NotificationService = field(init=False)
    stock: dict[str, int] | None = None

    def __post_init__(self) -> None:
        self.inventory = InventoryService(self.faults, self.stock)
        self.payment = PaymentService(self.faults)
        self.shipping = ShippingService(self.faults)
        self.notifications = NotificationService(self.faults)

    @classmethod
    def seeded(cls, seed: int = 0, stock: dict[str, int] | None = None) -> Shop:
        """A shop whose random faults repeat exactly for the same seed."""
        return cls(faults=FaultInjector(seed), stock=stock)

    def snapshot(self) -> dict[str, Any]:
        """Every observable effect, comparable between two runs."""
        return {
            "stock": dict(self.inventory.stock),
            "reservations": {k: dict(v) for k, v in self.inventory.reservations.items()},
            "charges": list(self.payment.charges),
            "refunds": list(self.payment.refunds),
            "shipments": dict(self.shipping.shipments),
            "cancelled_shipments": list(self.shipping.cancelled),
            "notifications": list(self.notifications.sent),
        }
