"""Command bus, query bus and in-process event bus — and why they treat failure differently.

- A **command** asks for one thing to happen, so it has exactly **one** handler. If that handler fails, the
  caller must know: ``CommandBus.dispatch`` raises.
- A **query** asks a read model a question; one handler answers it with a typed result (``Query[R]`` → ``R``).
- An **event** is a fact that already happened; any number of subscribers may react. One broken subscriber must
  not stop the others (the fact is still true), so ``EventBus.publish`` isolates each subscriber, runs the rest,
  and *reports* the failures instead of raising.

Command handlers run inside a middleware chain (logging → validation → correlation). The correlation step makes
the command's envelope the *cause* of everything the handler does, so each event it records carries the
command's ``correlation_id`` and has ``causation_id`` = the command's message id.
"""

from __future__ import annotations

import contextvars
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from course_lib.aggregates import Aggregate, Repository
from course_lib.clock import Clock, IdFactory, random_ids, system_clock
from course_lib.errors import CourseError
from course_lib.eventstore.base import ANY, AppendResult, EventStore, ExpectedVersion, InTransaction
from course_lib.messages import Command, Envelope, Event, Message, Registry, envelope, registry

log = logging.getLogger("course_lib.buses")

R = TypeVar("R")
C = TypeVar("C", bound=Command)
E = TypeVar("E", bound=Event)

_current_cause: contextvars.ContextVar[Envelope[Any] | None] = contextvars.ContextVar("_current_cause", default=None)


class NoHandler(CourseError):
    """A command or query was sent that nobody handles."""

    def __init__(self, kind: str, name: str, known: list[str]) -> None:
        self.kind = kind
        self.name = name
        shown = ", ".join(sorted(known)) or "none"
        super().__init__(
            f"No handler for {kind} {name!r} (registered: {shown}). "
            f"Register one with bus.register({name}, handler) before dispatching it."
        )


class HandlerAlreadyRegistered(CourseError):
    """A second handler for the same command or query: there must be exactly one."""


class InvalidCommand(CourseError):
    """A command's data failed validation; the message lists the fields."""

    def __init__(self, name: str, error: ValidationError) -> None:
        self.name = name
        self.errors = error.errors()
        fields = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(model)'}: {e['msg']}" for e in self.errors)
        super().__init__(f"Command {name} is invalid — {fields}. Fix the data and dispatch it again.")


# --------------------------------------------------------------------------------------------------- commands


@dataclass
class CommandContext:
    """What a command handler may use: the store to append to, and the cause for the events it records."""

    command: Envelope[Command]
    store: EventStore | None = None
    clock: Clock = system_clock
    ids: IdFactory = random_ids
    recorded: list[Envelope[Message]] = field(default_factory=list)
    last_position: int = 0
    in_transaction: InTransaction | None = None
    """Extra work every append of this command runs inside its transaction (the outbox's rows), if any."""

    def envelope(self, event: Event) -> Envelope[Message]:
        """Wrap an event as caused by the message being handled (same correlation id)."""
        cause = _current_cause.get()
        if cause is None:  # the correlation middleware is not in the chain: the event starts its own conversation
            return envelope(event, clock=self.clock, ids=self.ids)  # type: ignore[return-value]
        return cause.caused(event, clock=self.clock, ids=self.ids)  # type: ignore[no-any-return]

    def append(
        self, stream_id: str, events: Sequence[Event], expected_version: ExpectedVersion = ANY, *,
        in_transaction: InTransaction | None = None,
    ) -> int:
        """Append events caused by this command to ``stream_id``; returns the stream's new version.

        ``in_transaction`` (default: the context's own) runs inside the append's transaction."""
        wrapped = [self.envelope(e) for e in events]
        result = self._store().append(stream_id, wrapped, expected_version,
                                      in_transaction=in_transaction or self.in_transaction)
        self._record(result, wrapped)
        return result.stream_version

    def save(self, repository: Repository[Any], aggregate: Aggregate) -> int:
        """Save the aggregate's pending events through ``repository`` (its snapshots, its expected version), caused
        by this command; returns the stream's version. The one way a handler saves an aggregate."""
        self._store()
        saved = repository.save_envelopes(aggregate, caused_by=_current_cause.get(),
                                          in_transaction=self.in_transaction)
        if saved is None:
            return aggregate.version
        self._record(*saved)
        return saved[0].stream_version

    def _store(self) -> EventStore:
        if self.store is None:
            raise CourseError("This CommandBus has no event store: create it with CommandBus(store=...).")
        return self.store

    def _record(self, result: AppendResult, wrapped: Sequence[Envelope[Message]]) -> None:
        first_version = result.stream_version - len(wrapped) + 1
        self.recorded.extend(
            env.with_metadata(stream_id=result.stream_id, stream_version=first_version + i)
            for i, env in enumerate(wrapped)
        )
        self.last_position = max(self.last_position, result.position)


@dataclass(frozen=True)
class CommandResult(Generic[R]):
    """What a dispatch returns: the handler's value, the events it recorded, and the log position they reached.

    ``position`` is what a reader waits for before expecting to see the command's effect in a read model.
    """

    value: R
    events: list[Envelope[Message]]
    position: int
    correlation_id: Any


CommandHandler = Callable[[Any, CommandContext], Any]
Next = Callable[[CommandContext], Any]
Middleware = Callable[[CommandContext, Next], Any]


def logging_middleware(ctx: CommandContext, call_next: Next) -> Any:
    """Log each command: name, correlation id, outcome and duration."""
    name = ctx.command.type
    start = time.perf_counter()
    try:
        result = call_next(ctx)
    except Exception as exc:
        log.warning("command %s (correlation %s) failed after %.1f ms: %s", name,
                    ctx.command.metadata.correlation_id, (time.perf_counter() - start) * 1e3, exc)
        raise
    log.info("command %s (correlation %s) handled in %.1f ms, %d event(s)", name,
             ctx.command.metadata.correlation_id, (time.perf_counter() - start) * 1e3, len(ctx.recorded))
    return result


def validation_middleware(ctx: CommandContext, call_next: Next) -> Any:
    """Validate the command again through pydantic, so one built with ``model_construct`` cannot slip through."""
    command = ctx.command.message
    try:
        type(command).model_validate(command.model_dump())
    except ValidationError as exc:
        raise InvalidCommand(ctx.command.type, exc) from None
    return call_next(ctx)


def correlation_middleware(ctx: CommandContext, call_next: Next) -> Any:
    """Make the command the cause of everything its handler does (events, nested commands)."""
    token = _current_cause.set(ctx.command)
    try:
        return call_next(ctx)
    finally:
        _current_cause.reset(token)


DEFAULT_MIDDLEWARE: tuple[Middleware, ...] = (logging_middleware, validation_middleware, correlation_middleware)


class CommandBus:
    """One handler per command type, run through a middleware chain. A failing handler raises to the caller."""

    def __init__(
        self,
        store: EventStore | None = None,
        *,
        event_bus: EventBus | None = None,
        middleware: Sequence[Middleware] = DEFAULT_MIDDLEWARE,
        clock: Clock = system_clock,
        ids: IdFactory = random_ids,
        registry: Registry = registry,
        in_transaction: InTransaction | None = None,
    ) -> None:
        self.store = store
        self.in_transaction = in_transaction
        self.event_bus = event_bus
        self.middleware = list(middleware)
        self.clock = clock
        self.ids = ids
        self.registry = registry
        self._handlers: dict[type[Command], CommandHandler] = {}

    def register(self, command_type: type[C], handler: Callable[[C, CommandContext], Any]) -> None:
        """Make ``handler`` the one handler of ``command_type``."""
        if command_type in self._handlers:
            raise HandlerAlreadyRegistered(
                f"{command_type.__name__} already has a handler ({self._handlers[command_type].__name__}); "
                "a command has exactly one. Remove the other registration."
            )
        self._handlers[command_type] = handler

    def handles(self, command_type: type[C]) -> Callable[[Callable[[C, CommandContext], Any]], Any]:
        """Decorator form of ``register``."""

        def decorate(handler: Callable[[C, CommandContext], Any]) -> Callable[[C, CommandContext], Any]:
            self.register(command_type, handler)
            return handler

        return decorate

    def dispatch(self, command: Command | Envelope[Command]) -> CommandResult[Any]:
        """Run the command's handler through the middleware; publish the recorded events; raise on failure."""
        if isinstance(command, Envelope):
            env = command
        else:
            cause = _current_cause.get()  # a command sent by another handler continues its conversation
            env = (cause.caused(command, clock=self.clock, ids=self.ids) if cause is not None
                   else envelope(command, clock=self.clock, ids=self.ids))
        handler = self._handlers.get(type(env.message))
        if handler is None:
            raise NoHandler("command", env.type, [c.__name__ for c in self._handlers])
        ctx = CommandContext(command=env, store=self.store, clock=self.clock, ids=self.ids,
                             in_transaction=self.in_transaction)

        def innermost(c: CommandContext) -> Any:
            return handler(c.command.message, c)

        chain: Next = innermost
        for mw in reversed(self.middleware):
            chain = _bind(mw, chain)
        value = chain(ctx)
        if self.event_bus is not None:
            for event in ctx.recorded:  # only after the handler succeeded and the events are stored
                self.event_bus.publish(event)
        return CommandResult(value, list(ctx.recorded), ctx.last_position, env.metadata.correlation_id)

    def submit(self, type_name: str, data: dict[str, Any]) -> CommandResult[Any]:
        """Validate raw data (e.g. from a form) into the named command, then dispatch it."""
        cls = self.registry.resolve(type_name)
        try:
            command = cls.model_validate(data)
        except ValidationError as exc:
            raise InvalidCommand(type_name, exc) from None
        if not isinstance(command, Command):
            raise CourseError(f"{type_name} is not a Command; dispatch only commands on the CommandBus.")
        return self.dispatch(command)


def _bind(mw: Middleware, call_next: Next) -> Next:
    return lambda ctx: mw(ctx, call_next)


# ---------------------------------------------------------------------------------------------------- queries


class Query(BaseModel, Generic[R]):
    """A question for a read model. Subclass as ``class OrdersOf(Query[list[OrderSummary]])``."""

    model_config = ConfigDict(frozen=True, extra="forbid")


Q = TypeVar("Q", bound=Query[Any])


class QueryBus:
    """One handler per query type; ``ask`` returns the handler's typed result."""

    def __init__(self) -> None:
        self._handlers: dict[type[Any], Callable[[Any], Any]] = {}

    def register(self, query_type: type[Q], handler: Callable[[Q], Any]) -> None:
        """Make ``handler`` the one handler of ``query_type``."""
        if query_type in self._handlers:
            raise HandlerAlreadyRegistered(f"{query_type.__name__} already has a handler; a query has exactly one.")
        self._handlers[query_type] = handler

    def ask(self, query: Query[R]) -> R:
        """Answer a query. No handler → ``NoHandler`` naming it."""
        handler = self._handlers.get(type(query))
        if handler is None:
            raise NoHandler("query", type(query).__name__, [q.__name__ for q in self._handlers])
        return handler(query)  # type: ignore[no-any-return]


# ----------------------------------------------------------------------------------------------------- events


@dataclass(frozen=True)
class SubscriberFailure:
    """One subscriber that raised while handling one event. The others still ran."""

    subscriber: str
    event_type: str
    message_id: Any
    error: BaseException

    def __str__(self) -> str:
        return f"{self.subscriber} failed on {self.event_type}: {type(self.error).__name__}: {self.error}"


@dataclass(frozen=True)
class PublishReport:
    """What a publish did: how many subscribers ran fine, and which failed."""

    delivered: int
    failures: list[SubscriberFailure]

    @property
    def ok(self) -> bool:
        return not self.failures


EventHandler = Callable[[Envelope[Any]], None]


class EventBus:
    """Publish/subscribe by event type, in process. A failing subscriber is isolated and reported, not raised."""

    def __init__(self) -> None:
        self._subscribers: dict[type[Message] | None, list[EventHandler]] = {}
        self.failures: list[SubscriberFailure] = []

    def subscribe(self, event_type: type[Event] | None, handler: EventHandler) -> None:
        """Call ``handler(envelope)`` for each published event of ``event_type`` (``None``: every event)."""
        self._subscribers.setdefault(event_type, []).append(handler)

    def publish(self, event: Envelope[Any] | Event) -> PublishReport:
        """Deliver to every matching subscriber; failures are logged, kept in ``failures`` and returned."""
        env = event if isinstance(event, Envelope) else _wrap_event(event)
        handlers = [*self._subscribers.get(type(env.message), []), *self._subscribers.get(None, [])]
        delivered, failures = 0, []
        for handler in handlers:
            try:
                handler(env)
                delivered += 1
            except Exception as exc:  # isolate: one broken reaction must not stop the others
                failure = SubscriberFailure(getattr(handler, "__qualname__", repr(handler)), env.type,
                                            env.message_id, exc)
                log.error("event subscriber %s", failure)
                failures.append(failure)
        self.failures.extend(failures)
        return PublishReport(delivered, failures)


def _wrap_event(event: Event) -> Envelope[Any]:
    cause = _current_cause.get()
    return cause.caused(event) if cause is not None else envelope(event)


@contextmanager
def caused_by(cause: Envelope[Any]) -> Iterator[None]:
    """Treat everything inside the block as caused by ``cause`` (for event handlers that dispatch commands)."""
    token = _current_cause.set(cause)
    try:
        yield
    finally:
        _current_cause.reset(token)
