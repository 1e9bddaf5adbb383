"""One way to open a PostgreSQL connection: autocommit, a connect timeout, and an error that says what to do.

psycopg reports every connect failure as ``OperationalError`` with libpq's text; :func:`connect` reads that text
to tell a server that is down from a hung one, a wrong user, a missing database or a typo in the host, and names
the fix for each.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote, urlsplit

from course_lib.config import redact
from course_lib.errors import CourseError, ServiceUnavailable
from course_lib.failures import Advice, FailureKind, advise, host_port
from course_lib.platform_hints import postgres_fix, postgres_restart

HOW_TO_START = (
    "start PostgreSQL (`python -m course_lib services start` starts a local Debian cluster; with Docker: "
    "`docker compose --profile postgres up -d --wait`) or set COURSE_POSTGRES_URL to a running server"
)

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

# libpq's wording for each kind of failure (regular expressions, case-insensitive), checked in this order.
_MARKERS: list[tuple[FailureKind, str]] = [
    (FailureKind.TIMEOUT, r"timeout expired"),
    (FailureKind.DNS, r"failed to resolve host|could not translate host name|name or service not known|"
                      r"nodename nor servname"),
    (FailureKind.REFUSED, r"connection refused"),
    (FailureKind.MISSING, r'database ".*" does not exist'),
    (FailureKind.AUTH, r'authentication failed|no password supplied|role ".*" does not exist|no pg_hba\.conf entry'),
    (FailureKind.DENIED, r"permission denied"),
    (FailureKind.PROTOCOL, r"invalid response to ssl negotiation|server closed the connection unexpectedly|"
                           r"expected authentication request|received invalid response"),
]


def failure_kind(message: str) -> FailureKind:
    """Which kind of connect failure libpq's message describes."""
    for kind, pattern in _MARKERS:
        if re.search(pattern, message, re.IGNORECASE):
            return kind
    return FailureKind.OTHER


ADVICE: Advice = {
    FailureKind.REFUSED: ("nothing listens at {address} (connection refused)", HOW_TO_START),
    FailureKind.TIMEOUT: (
        "{address} accepted the connection but did not answer within the {timeout_s:g} s timeout",
        "the PostgreSQL there is hung (stopped, paused or overloaded) or the port belongs to another program: check "
        "it with `pg_isready -h {host} -p {port}` and restart it (`{restart}`; with "
        "Docker `docker compose --profile postgres restart`), or set COURSE_POSTGRES_URL to PostgreSQL's port",
    ),
    FailureKind.DNS: (
        "cannot resolve the host {host!r}",
        "correct the host in COURSE_POSTGRES_URL; for a server on this machine use 127.0.0.1",
    ),
    FailureKind.AUTH: (
        "the server refused user {user!r} ({server_said})",
        "check user and password in COURSE_POSTGRES_URL (the course's default is "
        "postgresql://postgres@127.0.0.1:5432/test), or create the role with `createuser`",
    ),
    FailureKind.MISSING: (
        "the database {database!r} does not exist on {address}",
        "create it (`createdb -h {host} -p {port} -U {user} {database}`) or name an existing database in "
        "COURSE_POSTGRES_URL",
    ),
    FailureKind.DENIED: (
        "user {user!r} may not connect to the database {database!r}",
        "grant it (`GRANT CONNECT ON DATABASE {database} TO {user}`) or use another user",
    ),
    FailureKind.PROTOCOL: (
        "{address} answers, but not as PostgreSQL",
        "point COURSE_POSTGRES_URL at PostgreSQL's port (5432 by default)",
    ),
    FailureKind.OTHER: ("{server_said}", HOW_TO_START),
}


def unavailable(message: str, url: str, connect_timeout: float) -> ServiceUnavailable:
    """``ServiceUnavailable`` naming the URL (password hidden), what libpq said and the fix for that kind."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 5432
    first_line = next((line.strip() for line in message.splitlines() if line.strip()), "connection failed")
    server_said = re.search(r"FATAL:\s*(.+)", message)
    reason, fix = advise(
        failure_kind(message), ADVICE,
        address=host_port(host, port), host=host, port=port, timeout_s=connect_timeout,
        user=unquote(parts.username or "postgres"), database=unquote(parts.path.lstrip("/")) or "postgres",
        server_said=server_said.group(1) if server_said else first_line, restart=postgres_restart(),
    )
    kind = failure_kind(message)
    if host in LOCAL_HOSTS and kind in (FailureKind.REFUSED, FailureKind.AUTH, FailureKind.MISSING):
        # a server on this machine: add the commands of this platform (sudo and createdb on Debian/Ubuntu,
        # Homebrew's own superuser on macOS) to the generic advice
        platform_fix = postgres_fix(message, url)
        then = "if none is installed" if kind is FailureKind.REFUSED else "for the server on this machine"
        fix = f"{fix}; {then}: {platform_fix}"
    return ServiceUnavailable("PostgreSQL", redact(url), reason, fix)


def connect(url: str, *, connect_timeout: float = 5, **options: Any) -> Any:
    """A psycopg connection in autocommit mode; ``ServiceUnavailable`` (URL without password, and the fix) if not.

    A server that accepts the connection but never answers fails after about twice ``connect_timeout`` (libpq
    tries with and without SSL).
    """
    try:
        import psycopg
    except ImportError as exc:  # psycopg is the "postgres" extra
        raise CourseError(
            "PostgreSQL support needs psycopg: pip install -c constraints.txt -e '.[postgres]'"
        ) from exc
    timeout = max(1, int(connect_timeout))
    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=timeout, **options)
    except psycopg.OperationalError as exc:
        raise unavailable(str(exc), url, timeout) from None
    except psycopg.ProgrammingError as exc:  # libpq refused the URL itself (an unknown ?parameter, …)
        raise ServiceUnavailable(
            "PostgreSQL", redact(url), f"the URL is malformed ({str(exc).strip()})",
            "correct it: postgresql://USER[:PASSWORD]@HOST:PORT/DATABASE",
        ) from None


def section_available(section: str, url: str | None = None, *, connect_timeout: float = 3) -> bool:
    """Whether a notebook section that needs PostgreSQL can run here. When it cannot, say which section is skipped
    and how to enable it, so Run All carries on to the end; in CI (``CI=true``) raise instead — a missing service
    there is a failure, never a silent skip."""
    import os

    from course_lib.browser import skipped_in_browser
    from course_lib.config import get_settings

    if skipped_in_browser(section, "PostgreSQL"):
        return False
    target = url or get_settings().postgres_url
    try:
        connect(target, connect_timeout=connect_timeout).close()
    except CourseError as exc:
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            raise
        reason = exc.reason if isinstance(exc, ServiceUnavailable) else str(exc)
        fix = exc.fix if isinstance(exc, ServiceUnavailable) else HOW_TO_START
        print(f"PostgreSQL is not available at {redact(target)} ({reason}): skipping {section}.\n"
              f"To run it: {fix}; then run this notebook again.")
        return False
    return True
