"""The pre-flight doctor: is every service the course needs reachable, which version, how fast.

Each check answers within a few seconds even when a service is down, hung, or a URL points at a closed port, and
every failure names the address and carries the command that fixes it (the checks are in
:mod:`course_lib.ops.doctor_checks`). A malformed setting becomes a red row naming the variable instead of an
exception. Learners see the result as a table in notebook 00; instructors run ``python -m course_lib doctor`` on
every laptop before a workshop.
"""

from __future__ import annotations

import html
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from course_lib.config import Settings, SettingsError, get_settings, redact
from course_lib.ops.doctor_checks import (
    EVENT_STORE,
    KAFKA,
    MANAGEMENT,
    POSTGRES,
    RABBITMQ,
    STATE_FOLDER,
    CheckResult,
    check_event_store,
    check_kafka,
    check_postgres,
    check_rabbitmq,
    check_rabbitmq_management,
    check_state_folder,
    failed,
)

__all__ = [
    "CHECKS", "Check", "CheckResult", "DoctorReport", "check_event_store", "check_kafka", "check_postgres",
    "check_rabbitmq", "check_rabbitmq_management", "check_state_folder", "run_doctor",
]


@dataclass(frozen=True)
class DoctorReport:
    """All rows; renders as a text table (terminal) or an HTML table (notebook)."""

    results: list[CheckResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every required service is reachable."""
        return all(r.ok for r in self.results if r.required)

    def row(self, service: str) -> CheckResult:
        """The row for one service, by name."""
        return next(r for r in self.results if r.service == service)

    def to_text(self) -> str:
        lines = [f"{'':2} {'service':<22} {'version':<28} {'latency':>9}  detail"]
        for r in self.results:
            mark = "OK" if r.ok else ("--" if not r.required else "XX")
            latency = f"{r.latency_ms:.0f} ms" if r.latency_ms is not None else ""
            lines.append(f"{mark:2} {r.service:<22} {r.version:<28} {latency:>9}  {r.detail or r.url}")
            if not r.ok and r.fix:
                lines.append(f"{'':26}fix: {r.fix}")
        lines.append("All required services are ready." if self.ok else "Some required services are not ready.")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        rows = []
        for r in self.results:
            colour = "#1a7f37" if r.ok else ("#9a6700" if not r.required else "#cf222e")
            mark = "✔" if r.ok else ("○" if not r.required else "✘")
            latency = f"{r.latency_ms:.0f} ms" if r.latency_ms is not None else ""
            fix = f"<br><b>fix:</b> <code>{html.escape(r.fix)}</code>" if (not r.ok and r.fix) else ""
            rows.append(
                f"<tr><td style='color:{colour};font-weight:bold'>{mark}</td><td>{html.escape(r.service)}</td>"
                f"<td>{html.escape(r.version)}</td><td style='text-align:right'>{latency}</td>"
                f"<td style='text-align:left'>{html.escape(r.detail or r.url)}{fix}</td></tr>"
            )
        verdict = "All required services are ready." if self.ok else "Some required services are not ready."
        return (
            "<table class='course-doctor'><thead><tr><th></th><th>service</th><th>version</th>"
            "<th>latency</th><th style='text-align:left'>detail</th></tr></thead><tbody>"
            + "".join(rows) + f"</tbody></table><p><b>{verdict}</b></p>"
        )


@dataclass(frozen=True)
class Check:
    """A check and what its row shows when the check itself does not answer."""

    service: str
    run: Callable[[Settings], CheckResult]
    address: Callable[[Settings], str]


CHECKS: list[Check] = [
    Check(RABBITMQ, check_rabbitmq, lambda s: redact(s.rabbitmq_url)),
    Check(MANAGEMENT, check_rabbitmq_management, lambda s: redact(s.rabbitmq_management_url)),
    Check(KAFKA, check_kafka, lambda s: s.kafka_bootstrap_servers),
    Check(POSTGRES, check_postgres, lambda s: redact(s.postgres_url)),
    Check(EVENT_STORE, check_event_store, lambda s: redact(s.eventstore_url)),
    Check(STATE_FOLDER, check_state_folder, lambda s: str(s.state_dir)),
]


def deadline_for(settings: Settings) -> float:
    """How long the doctor waits for all checks (19 s with the default 3 s timeout). Each check ends on its own
    within about ``connect_timeout_s + 2`` or ``2 * connect_timeout_s`` seconds; the rest is room for a loaded
    laptop, so the deadline only catches a check that is truly stuck."""
    return 3 * settings.connect_timeout_s + 10


def _guarded(check: Check, settings: Settings) -> CheckResult:
    """Run one check, timed; a check that raises becomes a red row instead of killing the doctor."""
    started = time.perf_counter()
    try:
        result = check.run(settings)
    except Exception as exc:
        return failed(check.service, check.address(settings), f"the check failed ({type(exc).__name__}: {exc})",
                      "unexpected: run `python -m course_lib doctor` in a terminal and show the output to your "
                      "instructor or open an issue with it")
    if result.ok and result.latency_ms is None:
        return replace(result, latency_ms=(time.perf_counter() - started) * 1000)
    return result


def _settings_rows(error: SettingsError) -> DoctorReport:
    return DoctorReport([
        CheckResult(f"setting {p.setting}", False, p.value, detail=f"{p.setting}={p.value!r}: {p.problem}", fix=p.fix)
        for p in error.problems
    ])


def run_doctor(settings: Settings | None = None, *, deadline_s: float | None = None) -> DoctorReport:
    """Run every check in parallel and return within ``deadline_s`` (default :func:`deadline_for`).

    A check still running at the deadline is left behind (in a daemon thread) and reported red, with its
    address; malformed settings give one red row per bad value instead of an exception.
    """
    if settings is None:
        try:
            settings = get_settings()
        except SettingsError as exc:
            return _settings_rows(exc)
    checked = settings
    deadline = deadline_for(checked) if deadline_s is None else deadline_s
    results: dict[str, CheckResult] = {}
    threads = [
        threading.Thread(target=lambda c=check: results.__setitem__(c.service, _guarded(c, checked)),
                         name=f"doctor {check.service}", daemon=True)
        for check in CHECKS
    ]
    for thread in threads:
        thread.start()
    end = time.monotonic() + deadline
    for thread in threads:
        thread.join(max(0.0, end - time.monotonic()))
    return DoctorReport([
        results.get(check.service) or failed(
            check.service, check.address(checked), f"no answer within {deadline:g} s",
            "the service or the machine is stuck: check it, or raise COURSE_CONNECT_TIMEOUT_S on a slow machine")
        for check in CHECKS
    ])
