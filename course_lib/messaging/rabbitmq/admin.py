"""Broker state for widgets and checks: queue depths, the broker version, closing connections.

Queue depths come from the management HTTP API, with a passive-declare fallback.

The management API knows ready *and* unacknowledged counts and the number of consumers, but its numbers are
sampled (every 5 s by default). A passive ``queue.declare`` is exact and immediate but only knows the ready count
and consumers. ``queue_depth`` takes the exact ready count and adds the sampled unacked count when it can.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote, urlsplit

import pika.exceptions

from course_lib.config import get_settings
from course_lib.messaging.rabbitmq.connection import RabbitConnection
from course_lib.messaging.rabbitmq.errors import QueueNotFound


@dataclass(frozen=True)
class QueueDepth:
    """How many messages wait (``ready``) or are delivered but not yet acked (``unacked``) in a queue."""

    name: str
    ready: int
    unacked: int | None
    consumers: int
    source: Literal["management", "passive"]


def management_api(url: str | None = None) -> tuple[str, tuple[str, str]]:
    """The management HTTP API's base URL (``http://host:port``) and credentials, from the configured URL."""
    parts = urlsplit(url or get_settings().rabbitmq_management_url)
    base = parts._replace(netloc=f"{parts.hostname}:{parts.port or 15672}").geturl()
    return base.rstrip("/"), (parts.username or "guest", parts.password or "guest")


def passive_depth(conn: RabbitConnection, queue: str) -> QueueDepth:
    """Exact ready count and consumers via a passive declare (``QueueNotFound`` if the queue is missing)."""
    channel = conn.channel()
    try:
        ok = channel.queue_declare(queue, passive=True).method
    except pika.exceptions.ChannelClosedByBroker as exc:
        raise QueueNotFound(queue) from exc
    channel.close()
    return QueueDepth(queue, int(ok.message_count), None, int(ok.consumer_count), "passive")


def management_depth(queue: str, *, url: str | None = None, vhost: str = "/", timeout: float = 2.0) -> QueueDepth:
    """Ready/unacked/consumers from the management API (sampled: may lag a few seconds)."""
    import requests

    base, auth = management_api(url)
    response = requests.get(f"{base}/api/queues/{quote(vhost, safe='')}/{quote(queue, safe='')}", auth=auth,
                            timeout=timeout)
    if response.status_code == 404:
        raise QueueNotFound(queue)
    response.raise_for_status()
    data = response.json()
    return QueueDepth(queue, int(data.get("messages_ready", 0)), int(data.get("messages_unacknowledged", 0)),
                      int(data.get("consumers", 0)), "management")


def queue_depth(conn: RabbitConnection, queue: str) -> QueueDepth:
    """Exact ready count and consumers (passive declare) plus the unacked count from the management API.

    When the management API does not answer, ``unacked`` is ``None`` and ``source`` says ``"passive"``.
    """
    exact = passive_depth(conn, queue)
    try:
        sampled = management_depth(queue)
    except Exception:  # API down or plugin disabled: the exact part still stands
        return exact
    return QueueDepth(queue, exact.ready, sampled.unacked, exact.consumers, "management")


def broker_version(*, url: str | None = None, timeout: float = 5.0) -> str:
    """The RabbitMQ version the management API reports (``/api/overview``), e.g. ``"3.10.8"`` or ``"4.1.4"``."""
    import requests

    base, auth = management_api(url)
    response = requests.get(f"{base}/api/overview", params={"columns": "rabbitmq_version"}, auth=auth,
                            timeout=timeout)
    response.raise_for_status()
    return str(response.json()["rabbitmq_version"])


def close_connection(connection_name: str, *, reason: str = "closed on purpose", timeout: float = 10.0,
                     url: str | None = None) -> list[str]:
    """Have the broker close every connection whose client-given name is ``connection_name``; return their names.

    This is what a broker does to a connection that missed its heartbeats (an idle notebook) or that an operator
    force-closed. New connections show up in the management API after its next statistics tick (a few seconds),
    so this waits for one to appear.
    """
    import requests

    from course_lib.waiting import wait_until

    base, auth = management_api(url)

    def matching() -> list[str]:
        response = requests.get(f"{base}/api/connections", params={"columns": "name,client_properties"},
                                auth=auth, timeout=2)
        response.raise_for_status()
        return [c["name"] for c in response.json()
                if (c.get("client_properties") or {}).get("connection_name") == connection_name]

    names = wait_until(matching, timeout=timeout, interval=0.25,
                       what=f"connection {connection_name!r} to appear in the management API")
    for name in names:
        requests.delete(f"{base}/api/connections/{quote(name, safe='')}", auth=auth,
                        headers={"X-Reason": reason}, timeout=2).raise_for_status()
    return names
