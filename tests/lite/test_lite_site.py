"""The browser track end to end: build the JupyterLite site, serve it on 127.0.0.1, and run each of its notebooks
top to bottom in headless Chromium with every non-local request refused.

Slow (minutes: Pyodide starts in each tab and installs the course's wheels), so it runs in ``make test-lite``, not in
``make test``. Asserts, per notebook: no error output, the notebook's own widget and the prediction widgets rendered,
every exercise check showed its verdict, and the browser asked nothing of any host but 127.0.0.1.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Request, Route, expect, sync_playwright

from lite import build, serve
from tests.browser.lab import CHROMIUM_FLAGS, SCREENSHOTS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: the notebook's own widget (a CSS class its view adds), which must render in the browser too
WIDGETS = {"01": "course-event-inspector", "02": "course-store-view", "03": "course-time-travel",
           "04": "course-cqrs-place", "11": "course-upcaster-view"}
#: Pyodide's start, the install of the wheels and a run of the notebook, on a loaded two-core machine
RUN_TIMEOUT_S = 420
#: refuse every host name but the loopback's inside Chromium itself, for workers and service workers too
NO_NETWORK = "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"


# Done when every code cell shows an execution count, or a cell failed (Run All stops there). As tests/browser/lab.py's
# _CELLS_RAN, but by textContent: JupyterLite keeps its default windowing, which leaves the inner text of cells
# scrolled out of view empty.
CELLS_RAN = """() => {
    const texts = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')]
        .map(p => p.textContent.trim());
    if (texts.length > 0 && texts.every(t => /^\\[\\d+\\]:$/.test(t))) return true;
    const stderr = [...document.querySelectorAll(
        ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")];
    return stderr.some(e => /Traceback|\\b\\w+Error\\b/.test(e.textContent)) && !texts.includes('[*]:');
}"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The site built from this checkout into a temporary folder, served on a free port; yields its URL."""
    out = build.build(tmp_path_factory.mktemp("lite") / "site", tmp_path_factory.mktemp("lite-stage"))
    server = serve.start(out)
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _code_cells(number: str) -> list[str]:
    (path,) = (build.ROOT / "notebooks").glob(f"{number}_*.ipynb")
    cells = json.loads(path.read_text())["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]


def _errors(page: Page) -> list[str]:
    """Tracebacks and error outputs in any cell, as tests/browser/lab.py's LabPage.errors finds them; by text content,
    because JupyterLab does not lay out cells scrolled out of view, and their inner text reads empty."""
    texts = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    return [t for t in texts.all_text_contents() if "Traceback" in t or re.search(r"\b\w+Error\b", t)]


def _run_all(page: Page, url: str, started: float) -> float:
    """Open the notebook, Run ▸ Run All Cells once the kernel is idle, wait until every cell ran (or one failed);
    returns the seconds from ``started`` until the first cell was done."""
    page.goto(url, timeout=120_000)
    page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").first.wait_for(timeout=120_000)
    # Run All before the notebook's session is up can be lost on a loaded machine: wait for the kernel first
    expect(page.locator("#jp-main-statusbar")).to_contain_text("| Idle", timeout=RUN_TIMEOUT_S * 1000)
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile("^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile("^Run All Cells$")).click()
    first = page.locator(".jp-Notebook .jp-CodeCell .jp-InputPrompt").first
    expect(first).to_have_text(re.compile(r"\[\d+\]:"), timeout=RUN_TIMEOUT_S * 1000)
    first_cell_s = time.monotonic() - started  # Pyodide started, the course installed, the first cell run
    page.wait_for_function(CELLS_RAN, timeout=RUN_TIMEOUT_S * 1000, polling=500)
    return first_cell_s


@pytest.mark.timeout(RUN_TIMEOUT_S * 2 + 180)
@pytest.mark.parametrize("number", sorted(WIDGETS))
def test_notebook_runs_in_the_browser_without_a_network(number: str, site: str, chromium_executable: str,
                                                        tmp_path: Path) -> None:
    (path,) = (build.ROOT / "notebooks").glob(f"{number}_*.ipynb")
    outside: list[str] = []

    downloaded: list[int] = []

    def refuse_outside(route: Route, request: Request) -> None:
        if urlsplit(request.url).hostname in {"127.0.0.1", None}:
            response = route.fetch()
            downloaded.append(len(response.body()))  # what a first visit loads (a fresh profile caches nothing)
            route.fulfill(response=response)
        else:
            outside.append(request.url)
            route.abort()

    with sync_playwright() as playwright:
        home = tmp_path / "chromium-home"
        home.mkdir()
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=chromium_executable, headless=True,
            args=[*CHROMIUM_FLAGS, NO_NETWORK], env={"HOME": str(home), "PATH": "/usr/bin:/bin"},
            viewport={"width": 1400, "height": 1000},
        )
        try:
            context.route("**/*", refuse_outside)
            page = context.pages[0] if context.pages else context.new_page()
            started = time.monotonic()
            try:
                first_cell_s = _run_all(page, f"{site}/lab/index.html?path={path.name}", started)
            finally:
                SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(SCREENSHOTS / f"lite-{number}.png"))
            print(f"\nnotebook {number}: first cell done {first_cell_s:.0f} s after opening the page, "
                  f"all cells {time.monotonic() - started:.0f} s; {sum(downloaded) / 1e6:.0f} MB loaded from the site")
            errors = _errors(page)
            assert errors == [], errors[0][-3000:]
            text = page.locator(".jp-Notebook").text_content() or ""

            prompts = page.locator(".jp-Notebook .jp-CodeCell .jp-InputPrompt").all_text_contents()
            assert all(re.fullmatch(r"\[\d+\]:", p.strip()) for p in prompts), prompts  # every cell ran

            widget = page.locator(f".{WIDGETS[number]}")
            assert widget.count() >= 1, f"{WIDGETS[number]} did not render"
            widget.first.scroll_into_view_if_needed()
            assert widget.first.is_visible()
            assert "Error displaying widget" not in text and "Loading widget..." not in text
            predictions = sum(bool(re.search(r"^\w+ = Prediction\(", c, re.MULTILINE)) for c in _code_cells(number))
            assert page.locator(".course-prediction").count() >= predictions

            checks = sum(len(re.findall(r"^(?:display\()?check_\w+\(", c, re.MULTILINE)) for c in _code_cells(number))
            verdicts = page.locator(".course-check-verdict").all_text_contents()
            assert checks >= 1 and len(verdicts) == checks, verdicts
            assert all("Not solved yet" in v for v in verdicts), verdicts  # the scaffolds' placeholder answers

            assert outside == [], f"the site asked hosts other than 127.0.0.1 for: {outside[:5]}"
        finally:
            context.close()
