"""What each notebook needs, and ``require``: the first line of a notebook that needs a service.

A notebook run without its broker used to fail deep inside pika or kafka-python with a long traceback. Its first
cell now calls ``require("rabbitmq")``: with the service up that is a quick check and nothing else; without it the
cell stops with the doctor's fix as its only output (``ServiceMissing`` renders without a traceback in IPython).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from course_lib.config import Settings, get_settings
from course_lib.errors import CourseError

# Which services each notebook cannot run without. A unit test keeps this equal to the notebooks' ``require``
# calls. PostgreSQL is in none: the notebooks that use it (04, 09, 13) skip those sections without it and say so.
NOTEBOOK_NEEDS: dict[str, tuple[str, ...]] = {
    "00": (), "01": (), "02": (), "03": (), "04": (),
    "05": ("rabbitmq",),
    "06": ("rabbitmq",),
    "07": ("kafka",),
    "08": ("kafka",),
    "09": ("rabbitmq", "kafka"),
    "10": ("rabbitmq", "kafka"),
    "11": ("rabbitmq",),
    "12": ("rabbitmq", "kafka"),
    "13": ("rabbitmq", "kafka"),
    "14": ("rabbitmq", "kafka"),
}

SERVICE_NAMES = ("rabbitmq", "kafka", "postgres")


class ServiceMissing(CourseError):
    """A service a notebook needs is not ready. Shown in a notebook as its message alone, with no traceback."""

    def __init__(self, message: str, services: list[str]) -> None:
        super().__init__(message)
        self.services = services

    def _render_traceback_(self) -> list[str]:
        # IPython calls this instead of formatting a traceback: the learner sees the fix and nothing else.
        return str(self).splitlines()


def notebooks_without(service: str) -> list[str]:
    """The notebook numbers that run without ``service``."""
    return [number for number, needs in NOTEBOOK_NEEDS.items() if service not in needs]


def require(*services: str, settings: Settings | None = None) -> None:
    """Raise ``ServiceMissing`` with the doctor's fix unless every named service answers.

    ``services`` are any of "rabbitmq", "kafka", "postgres". The checks run in parallel and each answers within
    the connect timeout, so a notebook never hangs here. In the browser track (no services there) it says so and
    returns: the notebook's sections that use a service are guarded with ``skipped_in_browser``.
    """
    from course_lib.browser import FULL_COURSE, in_browser
    from course_lib.ops.doctor import check_kafka, check_postgres, check_rabbitmq

    unknown = [s for s in services if s not in SERVICE_NAMES]
    if unknown:
        raise ValueError(f"require() knows {', '.join(SERVICE_NAMES)}; got {', '.join(map(repr, unknown))}")
    if in_browser():
        print(f"In the browser: this notebook's sections that need {' and '.join(services)} say so and are skipped; "
              f"{FULL_COURSE}.")
        return
    settings = settings or get_settings()
    checks = {"rabbitmq": check_rabbitmq, "kafka": check_kafka, "postgres": check_postgres}
    with ThreadPoolExecutor(max_workers=max(1, len(services))) as pool:
        results = list(pool.map(lambda name: (name, checks[name](settings)), services))
    failed = [(name, result) for name, result in results if not result.ok]
    if not failed:
        return
    lines = []
    for _, result in failed:
        lines.append(f"This notebook needs {result.service}, and it is not ready: {result.detail}")
        if result.fix:
            lines.append(f"  How to fix: {result.fix}")
    lines.append("Then restart the kernel and run the notebook again. "
                 "`python -m course_lib doctor` checks every service.")
    raise ServiceMissing("\n".join(lines), [name for name, _ in failed])
