"""Shared test fixtures.

Service fixtures skip on a developer's machine when a service is down, but **fail** in CI (``CI=true``): a missing
service must never turn into a green run that tested nothing.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from course_lib.config import Settings, get_settings
from course_lib.kafka_probe import identify_kafka
from course_lib.ops.doctor import check_kafka, check_postgres, check_rabbitmq
from tests.ports import holding_closed_port
from tests.scheduling import NotebookGroupScheduling, slowest_first

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
ROOT = Path(__file__).resolve().parents[1]


def require(ok: bool, message: str) -> None:
    """Skip (locally) or fail (CI) when a service the test needs is missing."""
    if ok:
        return
    if IN_CI:
        pytest.fail(f"{message} — in CI a missing service is a failure. Run `make services` first.")
    pytest.skip(message)


@pytest.fixture(scope="session")
def settings() -> Settings:
    return get_settings()


@pytest.fixture(scope="session")
def rabbitmq_url(settings: Settings) -> str:
    result = check_rabbitmq(settings)
    require(result.ok, f"RabbitMQ is not reachable: {result.detail}. Fix: {result.fix}")
    return settings.rabbitmq_url


@pytest.fixture(scope="session")
def kafka_bootstrap(settings: Settings) -> str:
    result = check_kafka(settings)
    require(result.ok, f"Kafka broker is not reachable: {result.detail}. Fix: {result.fix}")
    return settings.kafka_bootstrap_servers


@pytest.fixture(scope="session")
def kafka_flavour(kafka_bootstrap: str) -> str:
    identity = identify_kafka(kafka_bootstrap)
    assert identity is not None
    return identity.flavour


@pytest.fixture(scope="session")
def postgres_url(settings: Settings) -> str:
    result = check_postgres(settings)
    require(result.ok, f"PostgreSQL is not reachable: {result.detail}. Fix: {result.fix}")
    return settings.postgres_url


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port where nothing listens for the whole test: it stands in for a service that is not running."""
    with holding_closed_port() as port:
        yield port


@pytest.fixture
def unique_name(request: pytest.FixtureRequest) -> Callable[[str], str]:
    """Names no other test uses: ``unique_name("orders")`` → ``t-orders-<test>-<8 hex>``.

    Broker- and database-specific fixtures use these names and delete what they created.
    """
    test = "".join(ch if ch.isalnum() else "-" for ch in request.node.name)[:24].strip("-")

    def make(prefix: str) -> str:
        return f"t-{prefix}-{test}-{uuid.uuid4().hex[:8]}"

    return make


@pytest.fixture(autouse=True)
def _private_progress_file(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Checks that pass record progress; tests write it to a file of their own, never the learner's."""
    monkeypatch.setenv("COURSE_PROGRESS_FILE", str(tmp_path_factory.mktemp("progress") / "progress.json"))


@pytest.fixture(autouse=True)
def _skip_apache_kafka_only(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tests marked ``apache_kafka_only`` run on Apache Kafka and are skipped only when Tansu is *detected*."""
    if request.node.get_closest_marker("apache_kafka_only"):
        bootstrap = get_settings().kafka_bootstrap_servers
        identity = identify_kafka(bootstrap)
        require(identity is not None, f"Kafka broker is not reachable at {bootstrap}")
        if identity is not None and identity.flavour == "tansu":
            pytest.skip("needs Apache Kafka: the embedded Tansu broker does not implement this "
                        "(see docs/embedded-kafka.md)")
    yield


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """tests/lite builds and runs the browser track for minutes: collected only when named (`make test-lite`),
    never by `make test`, which names the whole tests folder."""
    lite = ROOT / "tests" / "lite"
    if collection_path != lite:
        return None
    named = [Path(str(arg).split("::")[0]).resolve() for arg in config.args]
    return not any(path == lite or lite in path.parents for path in named)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    slowest_first(items)  # the units xdist hands out, slowest first (tests/scheduling.py)
    for item in items:
        path = Path(str(item.fspath))
        if "integration" in path.parts:
            item.add_marker(pytest.mark.integration)
        if "browser" in path.parts:
            item.add_marker(pytest.mark.browser)


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> NotebookGroupScheduling | None:
    """``--dist loadfile`` with the files that rerun every notebook split per notebook (tests/scheduling.py)."""
    return NotebookGroupScheduling(config, log) if config.getvalue("dist") == "loadfile" else None


# --- Per-notebook timings: nbval reports one item per cell; sum them per notebook for the instructor guide. ---
_NOTEBOOK_SECONDS: dict[str, float] = {}
_NOTEBOOK_FAILED: set[str] = set()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    path = report.nodeid.split("::")[0]
    if not path.endswith(".ipynb"):
        return
    _NOTEBOOK_SECONDS[path] = _NOTEBOOK_SECONDS.get(path, 0.0) + report.duration
    if report.failed:
        _NOTEBOOK_FAILED.add(path)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not _NOTEBOOK_SECONDS or hasattr(session.config, "workerinput"):  # only the controller writes
        return
    import json

    out = ROOT / "artifacts"
    out.mkdir(exist_ok=True)
    rows = sorted(_NOTEBOOK_SECONDS.items())
    (out / "notebook-timings.json").write_text(json.dumps(
        {"notebooks": [{"notebook": p, "seconds": round(s, 1), "passed": p not in _NOTEBOOK_FAILED} for p, s in rows]},
        indent=2))
    lines = ["| notebook | seconds under nbval | result |", "|---|---:|---|"]
    lines += [f"| {Path(p).name} | {s:.1f} | {'FAILED' if p in _NOTEBOOK_FAILED else 'passed'} |" for p, s in rows]
    (out / "notebook-timings.md").write_text("\n".join(lines) + "\n")
