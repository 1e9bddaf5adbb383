"""Policies: change a live queue's TTL, dead-lettering and length limits without deleting it.

A queue's ``x-…`` arguments are fixed when it is declared: declaring it again with other arguments is refused
(``406 PRECONDITION_FAILED``), and deleting it to declare it anew throws away every message it holds. A **policy**
is RabbitMQ's way to set these on queues that exist: a name, a regular expression over queue names, and a
definition that the broker applies to every matching queue at once — messages stay where they are.

Keys a policy can set include ``message-ttl``, ``expires``, ``dead-letter-exchange``,
``dead-letter-routing-key``, ``max-length``, ``max-length-bytes``, ``overflow`` and, for quorum queues,
``delivery-limit``. A queue's *type* (classic → quorum) has no policy: that takes a new queue and moving the
messages over (e.g. with Shovel). Where a queue argument and a policy both set a limit, the lower
``max-length`` and ``message-ttl`` win, while a ``dead-letter-exchange`` argument overrides the policy's — so
set these by policy from the start. Only one policy (the highest ``priority``) applies to a queue.

The same as ``rabbitmqctl set_policy`` (``Policy.rabbitmqctl()`` prints the command), here through the management
HTTP API so it works against a broker in Docker too. Every call answers within ``timeout`` seconds.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote

from course_lib.errors import CourseError
from course_lib.messaging.rabbitmq.admin import management_api

ApplyTo = Literal["queues", "exchanges", "all"]


@dataclass(frozen=True)
class Policy:
    """A named definition applied to every queue whose name matches ``pattern`` (a regular expression)."""

    name: str
    pattern: str
    definition: Mapping[str, Any] = field(default_factory=dict)
    priority: int = 0
    apply_to: ApplyTo = "queues"

    @classmethod
    def for_queue(cls, queue: str, definition: Mapping[str, Any], *, name: str | None = None,
                  priority: int = 0) -> Policy:
        """A policy for exactly one queue (its name, anchored, with regex metacharacters escaped)."""
        return cls(name or f"{queue}-policy", "^" + re.sub(r"([.^$*+?{}\[\]\\|()])", r"\\\1", queue) + "$",
                   dict(definition), priority)

    def rabbitmqctl(self, vhost: str = "/") -> str:
        """The equivalent ``rabbitmqctl set_policy`` command line."""
        parts = ["rabbitmqctl", "set_policy", "-p", vhost, "--priority", str(self.priority),
                 "--apply-to", self.apply_to, self.name, self.pattern, json.dumps(dict(self.definition))]
        return " ".join(shlex.quote(part) for part in parts)


def set_policy(policy: Policy, *, vhost: str = "/", url: str | None = None, timeout: float = 5.0) -> None:
    """Create or replace ``policy`` (``PUT /api/policies/{vhost}/{name}``); the broker applies it at once."""
    import requests

    base, auth = management_api(url)
    body: dict[str, Any] = {"pattern": policy.pattern, "definition": dict(policy.definition),
                            "priority": policy.priority, "apply-to": policy.apply_to}
    response = requests.put(f"{base}/api/policies/{quote(vhost, safe='')}/{quote(policy.name, safe='')}",
                            json=body, auth=auth, timeout=timeout)
    if response.status_code >= 400:
        raise CourseError(f"RabbitMQ refused policy {policy.name!r} ({response.status_code}): {response.text[:300]}."
                          " Check the definition's keys and values (e.g. max-length is a number of messages,"
                          " message-ttl milliseconds) and that the management plugin is enabled.")


def clear_policy(name: str, *, vhost: str = "/", url: str | None = None, timeout: float = 5.0) -> None:
    """Delete a policy (a missing one is fine); queues fall back to their own arguments."""
    import requests

    base, auth = management_api(url)
    response = requests.delete(f"{base}/api/policies/{quote(vhost, safe='')}/{quote(name, safe='')}", auth=auth,
                               timeout=timeout)
    if response.status_code not in (200, 201, 204, 404):
        response.raise_for_status()
