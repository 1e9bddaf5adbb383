"""The browser track's pieces that need no browser: the guards, the notebooks' install cell, the course's wheel.

The site itself, run in headless Chromium, is tested by tests/lite (``make test-lite``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
import zipfile
from pathlib import Path

import pytest

from course_lib import pg
from course_lib.browser import in_browser, skipped_in_browser
from course_lib.ops.services import require
from lite import build
from tests.conftest import ROOT


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pretend to be Pyodide, whose sys.platform is "emscripten"."""
    monkeypatch.setattr(sys, "platform", "emscripten")


def test_on_a_machine_nothing_is_skipped(capsys: pytest.CaptureFixture[str]) -> None:
    assert not in_browser()
    assert skipped_in_browser("the crash demo", "a second process") is False
    assert capsys.readouterr().out == ""


def test_in_the_browser_a_guarded_section_says_what_it_skips_and_where_it_runs(
        browser: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert skipped_in_browser("the crash demo", "a second process") is True
    said = capsys.readouterr().out
    assert "the crash demo needs a second process" in said and "on your machine" in said


def test_in_the_browser_require_says_so_and_lets_the_notebook_run_on(
        browser: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import course_lib.ops.doctor as doctor

    monkeypatch.setattr(doctor, "check_rabbitmq", lambda settings: pytest.fail("no service check in the browser"))
    require("rabbitmq")  # returns instead of raising ServiceMissing
    assert "need rabbitmq say so and are skipped" in capsys.readouterr().out
    with pytest.raises(ValueError, match="got 'rabbit'"):
        require("rabbit")  # a typo is still a typo


def test_in_the_browser_a_postgres_section_is_skipped_without_connecting(
        browser: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pg, "connect", lambda *a, **k: pytest.fail("no connection attempt in the browser"))
    monkeypatch.setenv("CI", "true")  # even in CI: the browser has no PostgreSQL to require
    assert pg.section_available("the gap demo") is False
    assert "the gap demo needs PostgreSQL" in capsys.readouterr().out


def _code_cells(path: Path) -> list[str]:
    return ["".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]


def test_the_browser_notebooks_install_the_course_in_their_first_code_cell_and_no_other_does() -> None:
    install_cells = {}
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = _code_cells(path)
        installing = [i for i, source in enumerate(cells) if "piplite" in source]
        if installing:
            assert installing == [0], f"{path.name}: the install cell must be the first code cell, and only one"
            install_cells[path.name[:2]] = cells[0]
    assert sorted(install_cells) == sorted(build.NOTEBOOKS)
    assert len(set(install_cells.values())) == 1, "the five install cells differ"
    cell = next(iter(install_cells.values()))
    wheel = build.WHEEL_NAME.replace("_", "-")
    assert 'if sys.platform == "emscripten":' in cell and f'piplite.install("{wheel}")' in cell


def test_the_course_wheel_holds_course_lib_and_requires_only_what_the_browser_has(tmp_path: Path) -> None:
    wheel = build.course_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        info = next(n for n in names if n.endswith(".dist-info/METADATA")).rsplit("/", 1)[0]
        metadata = archive.read(f"{info}/METADATA").decode()
        record = archive.read(f"{info}/RECORD").decode().splitlines()
        for line in record[:-1]:  # every file's hash and size, as pip and micropip check them
            name, digest, size = line.split(",")
            data = archive.read(name)
            expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            assert digest == f"sha256={expected}" and int(size) == len(data), name
    assert "course_lib/browser.py" in names and "course_lib/eventstore/sqlite.py" in names
    requires = sorted(line.split(": ", 1)[1] for line in metadata.splitlines() if line.startswith("Requires-Dist"))
    assert requires == ["ipywidgets==8.1.9", "pydantic-settings==2.16.3", "pydantic==2.14.4", "tqdm==4.70.1"]
    assert not any(client in metadata for client in ("pika", "kafka", "psycopg", "matplotlib"))


def test_the_browser_s_dependency_markers_are_pyodide_s() -> None:
    from packaging.requirements import Requirement

    ipython_psutil = Requirement('psutil>=7; sys_platform != "emscripten" and sys_platform != "cygwin"')
    assert ipython_psutil.marker is not None and not ipython_psutil.marker.evaluate(build.BROWSER_MARKERS)
    assert Requirement('typing-extensions; python_version < "3.15"').marker.evaluate(  # type: ignore[union-attr]
        build.BROWSER_MARKERS)
