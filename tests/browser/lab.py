"""Drive JupyterLab in headless Chromium: the building blocks every notebook's browser test uses.

* :func:`ensure_chromium` finds Debian's ``chromium`` (installing it with apt-get when we are root and it is
  missing — ``playwright install`` cannot download browsers on the course's machines);
* :class:`JupyterLab` runs a private JupyterLab server on 127.0.0.1, a free port, a random token, and a
  temporary HOME and settings directory, serving a *copy* of the notebooks so the checkout is never modified;
* :func:`launch_chromium` starts Chromium with the flags DESIGN.md lists, a fresh profile and a temporary HOME;
* :class:`LabPage` opens a notebook, runs all cells from the Run menu, waits for the kernel to go idle, clicks
  widget buttons, sets sliders, reads widget text and saves screenshots under ``artifacts/screenshots/``.

A test usually needs only the ``lab_page`` fixture from ``tests/browser/conftest.py``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import requests
from playwright.sync_api import BrowserContext, Locator, Page, Playwright

from course_lib.labconfig import lab_environment
from course_lib.waiting import wait_until
from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"

# Exactly the flags DESIGN.md prescribes: no sandbox (root in CI), no GPU, and none of the background network
# traffic that a closed network refuses (and that makes a fresh profile slow to start).
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]

# JupyterLab user settings for a deterministic session: no autosave, and every cell kept in the DOM (windowing off)
# so a test can read any cell's output without scrolling to it first. The news pop-up is not silenced here: the
# server gets the course's own Lab configuration (course_lib.labconfig), so the tests see what a learner sees.
LAB_SETTINGS: dict[str, dict[str, Any]] = {
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}

_INSTALL_LOCK = Path(tempfile.gettempdir()) / "course-chromium-install.lock"


class BrowserSetupError(RuntimeError):
    """Chromium or JupyterLab could not be started; the message says why and what to do."""


def ensure_chromium(*, install: bool = True, timeout_s: float = 900) -> str | None:
    """The path of Debian's ``chromium``; installs it once per machine when missing and we are root with apt-get.

    Returns None when it is missing and cannot be installed here (not root, no apt-get, or ``install=False``).
    Parallel test workers take a file lock, so only one of them runs apt-get.
    """
    found = shutil.which("chromium")
    if found or not install or os.geteuid() != 0 or shutil.which("apt-get") is None:
        return found
    with _INSTALL_LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another worker may be installing right now: wait for it
        found = shutil.which("chromium")
        if found:
            return found
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        apt = ["apt-get", "-o", "DPkg::Lock::Timeout=600", "-q"]
        for step in (["update"], ["install", "-y", "chromium"]):
            result = subprocess.run(apt + step, env=env, capture_output=True, text=True, timeout=timeout_s)
            if result.returncode != 0:
                raise BrowserSetupError(
                    f"`apt-get {' '.join(step)}` failed while installing Chromium for the browser tests:\n"
                    f"{result.stderr[-1500:]}\n  How to fix: run `apt-get update && apt-get install -y chromium` "
                    "as root and look at its error."
                )
    return shutil.which("chromium")


class JupyterLab:
    """A private JupyterLab server for one test session. Use as a context manager, or call start() / stop()."""

    def __init__(self, notebooks: Iterable[Path], work_dir: Path, *, startup_timeout_s: float = 90,
                 course_config: bool = True) -> None:
        self.work_dir = work_dir
        self.course_config = course_config  # the course's Lab configuration (no news pop-up), as `course_lib lab`
        self.root_dir = work_dir / "root"
        self.home = work_dir / "home"
        self.log_path = work_dir / "jupyterlab.log"
        self.token = secrets.token_hex(24)
        self.port = free_port()
        self.startup_timeout_s = startup_timeout_s
        self.process: subprocess.Popen[bytes] | None = None
        self.root_dir.mkdir(parents=True, exist_ok=True)
        for notebook in notebooks:  # serve copies: a save in the browser must never touch the checkout
            shutil.copy(notebook, self.root_dir / notebook.name)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _environment(self) -> dict[str, str]:
        settings = self.work_dir / "lab-settings"
        for name, values in LAB_SETTINGS.items():
            path = settings / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
        dirs = {"HOME": self.home, "JUPYTER_CONFIG_DIR": self.work_dir / "jupyter-config",
                "JUPYTER_RUNTIME_DIR": self.work_dir / "jupyter-runtime",
                "JUPYTERLAB_SETTINGS_DIR": settings, "JUPYTERLAB_WORKSPACES_DIR": self.work_dir / "workspaces",
                "IPYTHONDIR": self.work_dir / "ipython"}
        for path in dirs.values():
            path.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **{k: str(v) for k, v in dirs.items()}, "JUPYTER_PLATFORM_DIRS": "1"}
        return lab_environment(self.work_dir / "course-jupyter-config", env) if self.course_config else env

    def api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Call the server's REST API with the token."""
        headers = {"Authorization": f"token {self.token}"}
        return requests.request(method, f"{self.url}{path}", headers=headers, timeout=10, **kwargs)

    def start(self) -> JupyterLab:
        """Start the server and wait until its API answers."""
        command = [
            sys.executable, "-m", "jupyter", "lab", "--no-browser",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.root_dir}",
            "--LabApp.extension_manager=readonly",  # no PyPI look-ups from the extension manager
        ]
        if os.geteuid() == 0:
            command.append("--allow-root")  # CI runs as root; the server refuses to start otherwise
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            env=self._environment(), cwd=self.root_dir, start_new_session=True)
        try:
            wait_until(self._ready, timeout=self.startup_timeout_s, interval=0.25, what=f"JupyterLab at {self.url}")
        except Exception as exc:
            self.stop()
            raise BrowserSetupError(f"JupyterLab did not start: {exc}\n{self.log_tail()}") from exc
        return self

    def _ready(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise BrowserSetupError(f"JupyterLab exited with code {self.process.returncode}\n{self.log_tail()}")
        try:
            return self.api("GET", "/api/status").status_code == 200
        except requests.RequestException:
            return False

    def kernels_idle(self) -> bool:
        """True when the server knows at least one kernel and every kernel is idle."""
        kernels = self.api("GET", "/api/kernels").json()
        return bool(kernels) and all(k.get("execution_state") == "idle" for k in kernels)

    def log_tail(self, chars: int = 2000) -> str:
        """The end of the server's log, for error messages."""
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        """Shut the server and its kernels down; kill the process group if it does not exit in time."""
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(requests.RequestException):
            self.api("POST", "/api/shutdown")  # shuts its kernels down cleanly too
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)  # the group holds the server and its kernels
            self.process.wait(timeout=10)

    def __enter__(self) -> JupyterLab:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def launch_chromium(playwright: Playwright, executable: str, work_dir: Path) -> BrowserContext:
    """Headless Chromium with DESIGN.md's flags, a fresh profile and a temporary HOME."""
    home = work_dir / "chromium-home"
    profile = work_dir / "chromium-profile"
    home.mkdir(parents=True, exist_ok=True)
    return playwright.chromium.launch_persistent_context(
        str(profile), executable_path=executable, headless=True, args=CHROMIUM_FLAGS,
        env={**os.environ, "HOME": str(home)}, viewport={"width": 1400, "height": 1000},
    )


# Done when every code cell (but the last, with skipLast) shows an execution count — or when a cell failed: Run All
# stops at an error and the cells after it never run, so waiting on them would turn a clear traceback into a timeout.
_CELLS_RAN = """(skipLast) => {
    const all = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')];
    const texts = (skipLast ? all.slice(0, -1) : all).map(p => p.textContent.trim());
    if (texts.length > 0 && texts.every(t => /^\\[\\d+\\]:$/.test(t))) return true;
    const stderr = [...document.querySelectorAll(
        ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")];
    const failed = stderr.some(e => /Traceback|\\b\\w+Error\\b/.test(e.innerText));
    return failed && !texts.includes('[*]:');
}"""


# The page's own view of the open notebook's kernel: the status bar reads "Python 3 (course) | Idle" once the page is
# connected to an idle kernel ("No Kernel | Initializing", "… | Connecting" or "… | Unknown" before).
_PAGE_KERNEL_IDLE = """() => [...document.querySelectorAll('.jp-StatusBar-TextItem')].some(item => {
    const text = item.textContent.trim();
    return /\\|\\s*Idle$/.test(text) && !text.startsWith('No Kernel');
})"""


class LabPage:
    """One JupyterLab tab, with the actions a learner takes."""

    def __init__(self, page: Page, lab: JupyterLab, screenshots: Path = SCREENSHOTS) -> None:
        self.page = page
        self.lab = lab
        self.screenshots = screenshots

    def open_notebook(self, name: str, timeout_s: float = 60) -> None:
        """Open a notebook in a fresh workspace of its own and wait until *its* kernel is idle.

        A workspace per notebook (reset on open) keeps tabs from earlier tests in the same server from coming
        back, whose idle kernels would otherwise end the wait before this notebook's kernel is ready.
        """
        self.notebook = name
        workspace = Path(name).stem
        self.page.goto(f"{self.lab.url}/lab/workspaces/{workspace}/tree/{name}?reset&token={self.lab.token}",
                       timeout=timeout_s * 1000)
        self.page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").first.wait_for(timeout=timeout_s * 1000)
        self.wait_for_idle_kernel(timeout_s)

    def run_all_cells(self, timeout_s: float = 120) -> None:
        """Run ▸ Run All Cells from the menu bar, then wait until every code cell has run and the kernel is idle."""
        self._menu("Run", "Run All Cells")
        self._wait_for_cells(skip_last=False, timeout_s=timeout_s)

    def run_all_but_last(self, timeout_s: float = 120) -> None:
        """Run every cell above the last code cell (the notebooks' clean-up cell), as Run ▸ Run All Above."""
        self._select_last_code_cell()
        self._menu("Run", "Run All Above Selected Cell")
        self._wait_for_cells(skip_last=True, timeout_s=timeout_s)

    def run_last_cell(self, timeout_s: float = 60) -> None:
        """Run the last code cell in place (Ctrl+Enter: Shift+Enter on the last cell would append an empty one)."""
        self._select_last_code_cell()
        self.page.keyboard.press("Control+Enter")
        self._wait_for_cells(skip_last=False, timeout_s=timeout_s)

    def run_new_cell_above_last(self, code: str) -> None:
        """Insert a code cell above the last one and run it, as a learner would (the server serves a copy)."""
        self._select_last_code_cell()
        self.page.keyboard.press("a")  # command mode: insert a cell above
        self.page.keyboard.press("Enter")  # edit it
        self.page.keyboard.type(code)
        self.page.keyboard.press("Shift+Enter")
        self.wait_for_idle_kernel()

    @contextlib.contextmanager
    def then_clean_up(self, *, first: str = "") -> Iterator[None]:
        """Run all cells but the clean-up cell; after the block — also when it fails — run ``first`` (code that
        stops what the widget started) and the clean-up cell, so nothing is left on the brokers."""
        self.run_all_but_last()
        try:
            assert self.errors() == []
            yield
        finally:
            if first:
                self.run_new_cell_above_last(first)
            self.run_last_cell()
        assert self.errors() == []

    def _menu(self, menu: str, item: str) -> None:
        self.page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{re.escape(menu)}$")).click()
        self.page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(item)}$")).click()

    def _select_last_code_cell(self) -> None:
        self.page.locator(".jp-Notebook .jp-CodeCell").last.locator(".jp-InputPrompt").click()

    def _wait_for_cells(self, *, skip_last: bool, timeout_s: float) -> None:
        try:
            self.page.wait_for_function(_CELLS_RAN, arg=skip_last, timeout=timeout_s * 1000, polling=250)
        except Exception:
            self.screenshot(f"{Path(getattr(self, 'notebook', 'notebook')).stem}-timeout")
            raise
        self.wait_for_idle_kernel(timeout_s)

    def wait_for_idle_kernel(self, timeout_s: float = 60) -> None:
        """Wait until the server reports the open notebook's kernel idle (from the kernel's status messages) and
        the page shows it idle too.

        The server alone is not enough: when the notebook's kernel runs already (an earlier test opened the same
        notebook), the server reports it idle while the page, its cells already drawn, is still looking for it
        ("No Kernel", then "Unknown" in the status bar), and a Run command given then runs nothing at all.
        """
        name = getattr(self, "notebook", None)

        def own_kernel_idle() -> bool:
            sessions = self.lab.api("GET", "/api/sessions").json()
            return any(s["path"].endswith(name) and s["kernel"]["execution_state"] == "idle" for s in sessions)

        server_idle = own_kernel_idle if name else self.lab.kernels_idle
        what = f"the kernel of {name or 'the notebook'} to be idle"
        wait_until(lambda: server_idle() and self.page.evaluate(_PAGE_KERNEL_IDLE), timeout=timeout_s,
                   interval=0.25, what=f"{what}, on the server and in the page's status bar")

    def news_prompt_shown(self) -> bool:
        """Whether JupyterLab's "official Jupyter news?" toast is on the page (the course's Lab must not ask)."""
        return self.page.get_by_text("official Jupyter news").count() > 0

    def errors(self) -> list[str]:
        """Tracebacks shown in any cell's output (JupyterLab renders errors with the stderr mime type)."""
        texts = self.page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
        return [t for t in texts.all_inner_texts() if "Traceback" in t or re.search(r"\b\w+Error\b", t)]

    def widget(self, css_class: str, index: int = 0) -> Locator:
        """The ``index``-th widget carrying ``css_class`` (widgets add their own classes with ``add_class``)."""
        return self.page.locator(f".{css_class}").nth(index)

    def click_button(self, text: str, within: Locator | None = None) -> None:
        """Click the widget button whose label is ``text`` (the first one, or the one inside ``within``)."""
        scope = within if within is not None else self.page
        scope.locator("button.jupyter-button", has_text=text).first.click()

    def set_slider(self, slider: Locator, value: int | float) -> None:
        """Type a value into an ipywidgets slider's readout, as a learner can, and confirm with Enter."""
        readout = slider.locator(".widget-readout")
        readout.click()
        self.page.keyboard.press("Control+A")
        self.page.keyboard.type(str(value))
        self.page.keyboard.press("Enter")

    def text(self, locator: Locator) -> str:
        """The visible text of a widget."""
        return locator.inner_text()

    def wait_for_text(self, locator: Locator, text: str | re.Pattern[str], timeout_s: float = 30) -> str:
        """Wait until ``locator`` shows ``text`` (a substring, or a compiled pattern to search for): a kernel round
        trip is asynchronous, and one widget's parts update one by one. Returns the full text."""
        def shown() -> str:
            current = locator.inner_text()
            found = text.search(current) if isinstance(text, re.Pattern) else text in current
            return current if found else ""

        what = text.pattern if isinstance(text, re.Pattern) else text
        return wait_until(shown, timeout=timeout_s, what=f"{what!r} to appear in the widget")

    def screenshot(self, name: str, show: Locator | None = None) -> Path:
        """Save a screenshot of the page (scrolled so ``show`` is visible) under artifacts/screenshots/."""
        self.screenshots.mkdir(parents=True, exist_ok=True)
        if show is not None:
            show.scroll_into_view_if_needed()
        path = self.screenshots / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path
