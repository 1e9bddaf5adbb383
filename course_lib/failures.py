"""Why a connection to a service failed, as one of a few kinds that each have their own fix.

Client libraries bury the cause: pika wraps ``ConnectionRefusedError`` two levels deep, requests wraps a DNS error
in urllib3's retry error. :func:`network_cause` digs it out, so that "nothing listens there" (start it), "cannot
resolve the host" (fix the name) and "accepted but never answered" (it is hung) get different advice instead of
one catch-all message.
"""

from __future__ import annotations

import enum
import socket
from collections.abc import Iterator, Mapping


class FailureKind(enum.Enum):
    """What went wrong when connecting; each kind has its own fix text."""

    REFUSED = "refused"  # nothing listens at the address
    UNREACHABLE = "unreachable"  # the connection itself was not accepted in time (wrong address, a firewall)
    TIMEOUT = "timeout"  # it accepted the connection but did not answer in time (hung, or not that service)
    DNS = "dns"  # the host name does not resolve
    AUTH = "auth"  # the server refused the user or password
    MISSING = "missing"  # the server answered, but the vhost / database named in the URL does not exist
    DENIED = "denied"  # the user exists but may not use that vhost / database
    PROTOCOL = "protocol"  # something answers, but it does not speak the expected protocol
    OTHER = "other"


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and every exception it carries: cause, context, exceptions among its args, urllib3's ``reason``
    and pika's ``exception``."""
    seen: set[int] = set()
    pending = [exc]
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        linked = (*current.args, current.__cause__, current.__context__,
                  getattr(current, "reason", None), getattr(current, "exception", None))
        pending.extend(item for item in linked if isinstance(item, BaseException))


# What to tell the learner for each kind: (reason, fix) templates, filled in by :func:`advise`.
Advice = Mapping[FailureKind, tuple[str, str]]


def advise(kind: FailureKind, advice: Advice, **context: object) -> tuple[str, str]:
    """The (reason, fix) for ``kind`` from ``advice`` (OTHER's when it has none), with ``context`` filled in."""
    reason, fix = advice.get(kind) or advice[FailureKind.OTHER]
    return reason.format(**context), fix.format(**context)


def network_cause(exc: BaseException) -> FailureKind | None:
    """REFUSED, DNS or TIMEOUT when one of those socket errors is anywhere in ``exc``'s chain; else None."""
    causes = list(_chain(exc))
    for kind, types in (
        (FailureKind.DNS, (socket.gaierror,)),
        (FailureKind.REFUSED, (ConnectionRefusedError,)),
        (FailureKind.TIMEOUT, (TimeoutError,)),
    ):
        if any(isinstance(cause, types) for cause in causes):
            return kind
    return None


def host_port(host: str | None, port: int | None) -> str:
    """``host:port`` for messages (IPv6 hosts in brackets)."""
    shown = host or "?"
    return f"[{shown}]:{port}" if ":" in shown else f"{shown}:{port}"
