"""Start a locally installed Debian PostgreSQL cluster that is down. PostgreSQL is optional for the course."""

from __future__ import annotations

import shutil
import subprocess
from urllib.parse import urlsplit

from course_lib.config import Settings, get_settings, redact
from course_lib.errors import ServiceUnavailable
from course_lib.ops.services.platform_hints import Platform, current_platform, postgres_fix
from course_lib.ops.services.ports import Say, port_open, say_flushed, wait_for_port

POSTGRES_PORT = 5432


def ensure_postgres_running(settings: Settings | None = None, timeout_s: float = 30.0, *, say: Say = say_flushed,
                            platform: Platform | None = None) -> str:
    """Start the local clusters when PostgreSQL's default local port is closed; returns what was done.

    Raises ``ServiceUnavailable`` with this platform's fix when nothing answers and nothing could be started.
    """
    settings = settings or get_settings()
    platform = platform or current_platform()
    parts = urlsplit(settings.postgres_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or POSTGRES_PORT
    if port_open(host, port):
        return "PostgreSQL was already running"
    ctl, lsclusters = shutil.which("pg_ctlcluster"), shutil.which("pg_lsclusters")
    local_default = host in {"127.0.0.1", "localhost"} and port == POSTGRES_PORT
    fix = (postgres_fix("connection refused", settings.postgres_url, platform) if local_default else
           f"start the PostgreSQL that COURSE_POSTGRES_URL={redact(settings.postgres_url)} points at, or unset "
           "COURSE_POSTGRES_URL to use a local one")
    if ctl is None or lsclusters is None or not local_default or not platform.root:
        raise ServiceUnavailable("PostgreSQL", f"{host}:{port}", "nothing listens there (optional: only notebook "
                                 "09's PostgreSQL saga log, notebook 04's PostgreSQL section and the tests need it)",
                                 fix)
    listing = subprocess.run([lsclusters, "-h"], capture_output=True, text=True, timeout=10).stdout
    for line in listing.splitlines():
        version, cluster = line.split()[:2]
        say(f"starting PostgreSQL: pg_ctlcluster {version} {cluster} start")
        subprocess.run([ctl, "--skip-systemctl-redirect", version, cluster, "start"], capture_output=True,
                       timeout=60, check=False)
    if wait_for_port(host, port, timeout=timeout_s, what=f"PostgreSQL to open {host}:{port}", say=say):
        return "started PostgreSQL with pg_ctlcluster"
    raise ServiceUnavailable("PostgreSQL", f"{host}:{port}", f"pg_ctlcluster ran but the port stayed closed for "
                             f"{timeout_s:.0f} s", "look at /var/log/postgresql/ for the reason, then retry")
