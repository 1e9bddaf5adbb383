"""A learner without PostgreSQL can Run All: every notebook that uses it skips that section, says so, and goes on.

The notebooks run under nbval in a child pytest whose ``COURSE_POSTGRES_URL`` points at a port where nothing
listens. ``CI`` is removed from the child's environment: this test plays a learner's laptop, where a missing
PostgreSQL is expected — in CI proper, the notebooks' guards raise instead.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from contextlib import redirect_stdout
from pathlib import Path

import nbformat
import pytest

from course_lib import pg
from course_lib.errors import ServiceUnavailable
from course_lib.ops.services.ports import port_open

ROOT = Path(__file__).resolve().parents[2]
ALWAYS = ("04", "09", "12")  # the notebooks the course names as PostgreSQL users (12: through the whole shop)
CLOSED_URL = "postgresql://postgres@127.0.0.1:{port}/test"


def _uses_postgres(path: Path) -> bool:
    cells = nbformat.read(path, as_version=4).cells
    return any(re.search(r"postgres|psycopg", cell.source, re.I) for cell in cells if cell.cell_type == "code")


def _notebooks() -> list[Path]:
    found = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    return [p for p in found if p.name[:2] in ALWAYS or _uses_postgres(p)]


def _closed_port() -> int:
    return next(p for p in range(1, 1024) if not port_open("127.0.0.1", p, timeout=0.2))


def test_every_postgres_notebook_runs_to_the_end_without_postgres(rabbitmq_url: str, kafka_bootstrap: str) -> None:
    notebooks = _notebooks()
    assert {p.name[:2] for p in notebooks} >= set(ALWAYS)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["COURSE_POSTGRES_URL"] = CLOSED_URL.format(port=_closed_port())
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax", "--nbval-current-env",
               "--nbval-sanitize-with", "tests/nbval_sanitize.cfg", "--nbval-cell-timeout=120",
               "--nbval-kernel-startup-timeout=180", *[str(p.relative_to(ROOT)) for p in notebooks]]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, f"a notebook stopped without PostgreSQL:\n{result.stdout[-4000:]}"


def test_a_section_without_postgres_is_skipped_with_its_name_and_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    url = CLOSED_URL.format(port=_closed_port())
    monkeypatch.delenv("CI", raising=False)
    printed = io.StringIO()
    with redirect_stdout(printed):
        assert pg.section_available("section 5's saga log", url) is False
    text = printed.getvalue()
    assert "skipping section 5's saga log" in text and pg.HOW_TO_START in text and "127.0.0.1" in text
    monkeypatch.setenv("CI", "true")
    with pytest.raises(ServiceUnavailable, match="How to fix"):
        pg.section_available("section 5's saga log", url)
