"""One way to open a PostgreSQL connection: autocommit, a connect timeout, and an error that says what to do."""

from __future__ import annotations

from typing import Any

from course_lib.config import redact
from course_lib.errors import CourseError, ServiceUnavailable

HOW_TO_START = (
    "start PostgreSQL (`python -m course_lib services start` starts a local Debian cluster; with Docker: "
    "`docker compose --profile postgres up -d --wait`) or set COURSE_POSTGRES_URL to a running server"
)


def connect(url: str, *, connect_timeout: float = 5, **options: Any) -> Any:
    """A psycopg connection in autocommit mode; ``ServiceUnavailable`` (URL without password, and the fix) if down."""
    try:
        import psycopg
    except ImportError as exc:  # psycopg is the "postgres" extra
        raise CourseError(
            "PostgreSQL support needs psycopg: pip install -c constraints.txt -e '.[postgres]'"
        ) from exc
    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=max(1, int(connect_timeout)), **options)
    except psycopg.OperationalError as exc:
        text = str(exc).strip()
        reason = text.splitlines()[0] if text else "connection failed"
        raise ServiceUnavailable("PostgreSQL", redact(url), reason, HOW_TO_START) from None


def section_available(section: str, url: str | None = None, *, connect_timeout: float = 3) -> bool:
    """Whether a notebook section that needs PostgreSQL can run here. When it cannot, say which section is skipped
    and how to enable it, so Run All carries on to the end; in CI (``CI=true``) raise instead — a missing service
    there is a failure, never a silent skip."""
    import os

    from course_lib.config import get_settings

    target = url or get_settings().postgres_url
    try:
        connect(target, connect_timeout=connect_timeout).close()
    except CourseError as exc:
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            raise
        reason = exc.reason if isinstance(exc, ServiceUnavailable) else str(exc)
        print(f"PostgreSQL is not available at {redact(target)} ({reason}): skipping {section}.\n"
              f"To run it: {HOW_TO_START}; then run this notebook again.")
        return False
    return True
