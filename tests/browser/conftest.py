"""Fixtures for real-browser tests: Chromium (installed when missing), a private JupyterLab, a page in it.

Chromium missing and not installable: skipped on a developer's machine, a failure in CI (``CI=true``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests.browser.lab import ROOT, JupyterLab, LabPage, ensure_chromium, launch_chromium
from tests.conftest import require


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    """Debian's chromium, installed once per machine when we are root and it is missing."""
    executable = ensure_chromium()
    require(executable is not None,
            "Chromium is not installed and cannot be installed here (needs root and apt-get). "
            "Fix: `sudo apt-get install -y chromium` (Debian/Ubuntu)")
    assert executable is not None
    return executable


@pytest.fixture(scope="session")
def jupyter_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterLab]:
    """One JupyterLab server for the session, serving copies of the course's notebooks."""
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    with JupyterLab(notebooks, tmp_path_factory.mktemp("jupyterlab")) as lab:
        yield lab


@pytest.fixture
def lab_page(chromium_executable: str, jupyter_lab: JupyterLab, tmp_path: Path) -> Iterator[LabPage]:
    """A fresh Chromium profile with one JupyterLab tab."""
    with sync_playwright() as playwright:
        context = launch_chromium(playwright, chromium_executable, tmp_path)
        try:
            page = context.pages[0] if context.pages else context.new_page()
            yield LabPage(page, jupyter_lab)
        finally:
            context.close()
