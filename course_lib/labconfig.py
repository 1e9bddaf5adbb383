"""The course's JupyterLab: no "Would you like to get notified about official Jupyter news?" pop-up.

On first open JupyterLab 4 asks, in a toast that covers the widgets of the notebook below it, whether it may fetch
news from the internet (its announcements plugin). The course's machines may have no internet and a learner has
widgets to click, so the course's Lab does not ask: a ``labconfig/page_config.json`` that disables that one
plugin (which also checks for updates), in a config directory put first on ``JUPYTER_CONFIG_PATH``. Nothing of the
learner's own Jupyter settings is replaced; ``python -m course_lib lab`` and the browser tests start Lab this way.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path

ANNOUNCEMENTS_PLUGIN = "@jupyterlab/apputils-extension:announcements"
"""The plugin that shows the news question, fetches the news feed and checks for newer JupyterLab versions."""


def write_lab_config(directory: Path) -> Path:
    """Write ``<directory>/labconfig/page_config.json`` disabling the announcements; returns ``directory``."""
    page_config = directory / "labconfig" / "page_config.json"
    page_config.parent.mkdir(parents=True, exist_ok=True)
    page_config.write_text(json.dumps({"disabledExtensions": {ANNOUNCEMENTS_PLUGIN: True}}, indent=2) + "\n")
    return directory


def lab_environment(config_dir: Path, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: this process's environment) with the course's config directory first on
    ``JUPYTER_CONFIG_PATH`` — written there now, so it is always current."""
    env = dict(os.environ if base is None else base)
    write_lab_config(config_dir)
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(filter(None, [str(config_dir), env.get("JUPYTER_CONFIG_PATH")]))
    return env


def lab_command(notebook: str, *, no_browser: bool = False, extra: list[str] | None = None) -> list[str]:
    """The ``jupyter lab`` command line the course starts (on 127.0.0.1, opening ``notebook``)."""
    command = [sys.executable, "-m", "jupyter", "lab", "--ServerApp.ip=127.0.0.1", *(extra or []), notebook]
    if no_browser:
        command.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # Jupyter refuses root without it (containers, CI machines)
    return command
