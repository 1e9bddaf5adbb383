"""Turn whatever pika raises while connecting into ``ServiceUnavailable`` with the URL and the fix for that failure.

A refused port, a hung broker, a wrong password, a missing vhost and a typo in the host name need different
advice; pika reports them as five unrelated exception types, one of which (``AMQPConnectorStackTimeout``) is not
even an ``AMQPError``.
"""

from __future__ import annotations

import pika
import pika.exceptions
from pika.adapters.utils import connection_workflow

from course_lib.config import redact
from course_lib.errors import ServiceUnavailable
from course_lib.failures import Advice, FailureKind, advise, host_port, network_cause

START_RABBITMQ = (
    "start it with `python -m course_lib services start` (or `rabbitmq-server -detached`, "
    "or `docker compose up -d rabbitmq`), then run the cell again"
)

ADVICE: Advice = {
    FailureKind.REFUSED: ("nothing listens at {address} (connection refused)", START_RABBITMQ),
    FailureKind.UNREACHABLE: (
        "{address} did not accept a connection within {connect_s:g} s",
        "correct the host and port in COURSE_RABBITMQ_URL (a firewall may drop the packets)",
    ),
    FailureKind.TIMEOUT: (
        "{address} accepted the connection but did not complete the AMQP handshake within {handshake_s:g} s",
        "the RabbitMQ there is hung (stopped, paused or overloaded): check it with `rabbitmq-diagnostics status`, "
        "restart it (`rabbitmqctl stop`, then `rabbitmq-server -detached`; with Docker `docker compose restart "
        "rabbitmq`); if another program holds that port, point COURSE_RABBITMQ_URL at RabbitMQ's AMQP port (5672)",
    ),
    FailureKind.DNS: (
        "cannot resolve the host {host!r}",
        "correct the host in COURSE_RABBITMQ_URL; for a broker on this machine use 127.0.0.1",
    ),
    FailureKind.AUTH: (
        "the broker refused the login of user {user!r}",
        "check user and password in COURSE_RABBITMQ_URL; guest/guest works only from 127.0.0.1 "
        "(`rabbitmqctl add_user` creates another user)",
    ),
    FailureKind.MISSING: (
        "the virtual host {vhost!r} does not exist",
        "create it (`rabbitmqctl add_vhost {vhost}`, then `rabbitmqctl set_permissions -p {vhost} {user} "
        "'.*' '.*' '.*'`), or use the default vhost: end COURSE_RABBITMQ_URL with /%2F",
    ),
    FailureKind.DENIED: (
        "user {user!r} may not use the virtual host {vhost!r}",
        "grant it: `rabbitmqctl set_permissions -p {vhost} {user} '.*' '.*' '.*'`, or use another vhost",
    ),
    FailureKind.PROTOCOL: (
        "{address} answers, but not in AMQP 0-9-1",
        "point COURSE_RABBITMQ_URL at RabbitMQ's AMQP port (5672 by default; 15672 is the management web UI)",
    ),
    FailureKind.OTHER: ("cannot connect to {address} ({detail})", START_RABBITMQ),
}


def failure_kind(exc: BaseException) -> FailureKind:
    """Which kind of connect failure pika's exception stands for."""
    if isinstance(exc, pika.exceptions.ProbableAuthenticationError | pika.exceptions.AuthenticationError):
        return FailureKind.AUTH
    if isinstance(exc, pika.exceptions.ProbableAccessDeniedError):
        return FailureKind.MISSING if "not found" in str(exc) else FailureKind.DENIED
    if isinstance(exc, pika.exceptions.IncompatibleProtocolError):
        return FailureKind.PROTOCOL
    if isinstance(exc, connection_workflow.AMQPConnectorStackTimeout):
        return FailureKind.TIMEOUT  # the socket was connected: the handshake is what never finished
    cause = network_cause(exc)
    if cause is FailureKind.TIMEOUT:
        return FailureKind.UNREACHABLE  # the TCP connect itself timed out
    return cause or FailureKind.OTHER


def unavailable(exc: BaseException, url: str, params: pika.ConnectionParameters) -> ServiceUnavailable:
    """``ServiceUnavailable`` naming the URL (password hidden), what happened and the fix for that kind."""
    reason, fix = advise(
        failure_kind(exc), ADVICE,
        address=host_port(params.host, params.port), host=params.host, vhost=params.virtual_host,
        user=getattr(params.credentials, "username", "?"), connect_s=params.socket_timeout,
        handshake_s=params.stack_timeout, detail="; ".join(str(arg) for arg in exc.args) or type(exc).__name__,
    )
    return ServiceUnavailable("RabbitMQ", redact(url), reason, fix)
