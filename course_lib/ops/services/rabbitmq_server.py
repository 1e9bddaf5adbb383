"""Use the RabbitMQ that is running, or start a locally installed one; never install anything.

A local install is only started when it can work: the URL points at this machine's default port (where a local
RabbitMQ listens), and we may run it — Debian's packaging refuses ``rabbitmq-server`` and ``rabbitmq-plugins``
to anyone but root, so a normal user there is shown the ``sudo`` command instead.
"""

from __future__ import annotations

import shutil
import subprocess
from urllib.parse import urlsplit

from course_lib.config import Settings, get_settings, redact
from course_lib.errors import ServiceUnavailable
from course_lib.ops.services.platform_hints import (
    Platform,
    current_platform,
    rabbitmq_plugins_enable,
    rabbitmq_server_start,
    rabbitmq_start_fix,
)
from course_lib.ops.services.ports import Say, port_open, say_flushed, wait_for_port

AMQP_PORT = 5672
MANAGEMENT_PORT = 15672
LOOPBACK = {"127.0.0.1", "localhost", "::1"}

HOW_TO_GET_RABBITMQ = (
    "RabbitMQ is needed and none is installed. Get one of these, then run the command again:\n"
    "    Docker:         docker compose up -d rabbitmq\n"
    "    Debian/Ubuntu:  sudo apt-get install -y rabbitmq-server && sudo systemctl start rabbitmq-server\n"
    "    macOS Homebrew: brew install rabbitmq && brew services start rabbitmq\n"
    "  and enable the management API:  rabbitmq-plugins enable rabbitmq_management (with sudo on Debian/Ubuntu)\n"
    "  This machine: "
)


def _host_port(url: str, default_port: int) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or default_port


def _may_run_packaged_tools(platform: Platform) -> bool:
    # Debian's rabbitmq-server/rabbitmq-plugins wrappers exit with "Only root or rabbitmq should run ...".
    return platform.root or not platform.debian_like or platform.user == "rabbitmq"


def ensure_running(settings: Settings | None = None, timeout_s: float = 60.0, *, management_timeout_s: float = 30.0,
                   say: Say = say_flushed, platform: Platform | None = None) -> str:
    """Make sure RabbitMQ answers on its AMQP port and management API. Returns what was done.

    Raises ``ServiceUnavailable`` naming the command to run when it cannot (not installed, not ours to start,
    or it did not open its port in time).
    """
    settings = settings or get_settings()
    platform = platform or current_platform()
    host, port = _host_port(settings.rabbitmq_url, AMQP_PORT)
    where = f"{host}:{port}"
    done = "RabbitMQ was already running"
    if not port_open(host, port):
        server = shutil.which("rabbitmq-server")
        local_default = host in LOOPBACK and port == AMQP_PORT
        if not local_default:
            raise ServiceUnavailable("RabbitMQ", where, "nothing listens there (and a local RabbitMQ would listen on "
                                     f"127.0.0.1:{AMQP_PORT}, not here)",
                                     f"start the RabbitMQ that COURSE_RABBITMQ_URL={redact(settings.rabbitmq_url)} "
                                     "points at, or unset COURSE_RABBITMQ_URL to use a local one")
        if server is None:
            raise ServiceUnavailable("RabbitMQ", where, "nothing listens there",
                                     HOW_TO_GET_RABBITMQ + rabbitmq_start_fix(platform))
        if not _may_run_packaged_tools(platform):
            raise ServiceUnavailable("RabbitMQ", where, "it is installed but not running, and Debian's packaging "
                                     "lets only root start it", f"{rabbitmq_server_start(platform)}   then run "
                                     "this command again")
        say(f"starting RabbitMQ: {server} -detached")
        subprocess.run([server, "-detached"], check=False, capture_output=True, timeout=30)
        if not wait_for_port(host, port, timeout=timeout_s, what=f"RabbitMQ to open {where}", say=say):
            raise ServiceUnavailable(
                "RabbitMQ", where, f"started `rabbitmq-server -detached` but the port stayed closed "
                f"for {timeout_s:.0f} s", "look at /var/log/rabbitmq/ (or `rabbitmq-diagnostics status`) for the "
                "reason, then retry"
            )
        done = "started RabbitMQ with `rabbitmq-server -detached`"
    return done + _ensure_management(settings, platform, say, management_timeout_s)


def _ensure_management(settings: Settings, platform: Platform, say: Say, timeout_s: float) -> str:
    mhost, mport = _host_port(settings.rabbitmq_management_url, MANAGEMENT_PORT)
    where = f"{mhost}:{mport}"
    if port_open(mhost, mport):
        return ""
    enable = rabbitmq_plugins_enable(platform)
    plugins = shutil.which("rabbitmq-plugins")
    if plugins is None or mhost not in LOOPBACK or mport != MANAGEMENT_PORT:
        raise ServiceUnavailable("RabbitMQ management API", where, "RabbitMQ runs, but nothing listens there",
                                 enable)
    if not _may_run_packaged_tools(platform):
        raise ServiceUnavailable("RabbitMQ management API", where, "RabbitMQ runs, but its management plugin is "
                                 "off, and Debian's packaging lets only root enable it", enable)
    say("enabling RabbitMQ's management plugin: rabbitmq-plugins enable rabbitmq_management")
    subprocess.run([plugins, "enable", "rabbitmq_management"], check=False, capture_output=True, timeout=60)
    if not wait_for_port(mhost, mport, timeout=timeout_s, what=f"the management API to open {where}", say=say):
        raise ServiceUnavailable("RabbitMQ management API", where, "RabbitMQ runs, but the management API did not "
                                 f"open in {timeout_s:.0f} s after `rabbitmq-plugins enable rabbitmq_management`",
                                 f"{enable}, then look at `rabbitmq-plugins list` and /var/log/rabbitmq/")
    return "; enabled the management plugin"
