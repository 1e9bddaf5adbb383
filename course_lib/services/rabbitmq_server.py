"""Use the RabbitMQ that is running, or start a locally installed one; never install anything."""

from __future__ import annotations

import shutil
import subprocess
from urllib.parse import urlsplit

from course_lib.config import Settings, get_settings
from course_lib.errors import ServiceUnavailable
from course_lib.services.ports import port_open, wait_for_port

HOW_TO_GET_RABBITMQ = (
    "RabbitMQ is needed and none is installed. Get one of these, then run the command again:\n"
    "    Docker:         docker compose up -d rabbitmq\n"
    "    Debian/Ubuntu:  sudo apt-get install -y rabbitmq-server && sudo rabbitmq-server -detached\n"
    "    macOS Homebrew: brew install rabbitmq && brew services start rabbitmq\n"
    "  and enable the management API:  rabbitmq-plugins enable rabbitmq_management"
)


def _host_port(url: str, default_port: int) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or default_port


def ensure_running(settings: Settings | None = None, timeout_s: float = 60.0) -> str:
    """Make sure RabbitMQ answers on its AMQP port and management API. Returns what was done."""
    settings = settings or get_settings()
    host, port = _host_port(settings.rabbitmq_url, 5672)
    done = "RabbitMQ was already running"
    if not port_open(host, port):
        server = shutil.which("rabbitmq-server")
        if server is None or host not in {"127.0.0.1", "localhost"}:
            raise ServiceUnavailable("RabbitMQ", f"{host}:{port}", "nothing listens there", HOW_TO_GET_RABBITMQ)
        subprocess.run([server, "-detached"], check=False, capture_output=True, timeout=30)
        if not wait_for_port(host, port, timeout=timeout_s):
            raise ServiceUnavailable(
                "RabbitMQ", f"{host}:{port}", f"started `rabbitmq-server -detached` but the port stayed closed "
                f"for {timeout_s:.0f}s", "look at /var/log/rabbitmq/ for the reason, then retry"
            )
        done = "started RabbitMQ with `rabbitmq-server -detached`"
    mhost, mport = _host_port(settings.rabbitmq_management_url, 15672)
    plugins = shutil.which("rabbitmq-plugins")
    if not port_open(mhost, mport) and plugins and mhost in {"127.0.0.1", "localhost"}:
        subprocess.run([plugins, "enable", "rabbitmq_management"], check=False, capture_output=True, timeout=60)
        wait_for_port(mhost, mport, timeout=30)
        done += "; enabled the management plugin"
    return done


def ensure_postgres_running(settings: Settings | None = None, timeout_s: float = 30.0) -> str:
    """Start a local Debian PostgreSQL cluster if one is installed and down. PostgreSQL is optional."""
    settings = settings or get_settings()
    parts = urlsplit(settings.postgres_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 5432
    if port_open(host, port):
        return "PostgreSQL was already running"
    ctl = shutil.which("pg_ctlcluster")
    lsclusters = shutil.which("pg_lsclusters")
    if ctl is None or lsclusters is None:
        return "PostgreSQL is not running (optional: only the PostgreSQL lessons and tests need it)"
    listing = subprocess.run([lsclusters, "-h"], capture_output=True, text=True, timeout=10).stdout
    for line in listing.splitlines():
        version, cluster = line.split()[:2]
        subprocess.run([ctl, "--skip-systemctl-redirect", version, cluster, "start"], capture_output=True,
                       timeout=60, check=False)
    if wait_for_port(host, port, timeout=timeout_s):
        return "started PostgreSQL with pg_ctlcluster"
    return "PostgreSQL is installed but did not start (see /var/log/postgresql/)"
