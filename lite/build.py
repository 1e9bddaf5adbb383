"""Build the zero-install track: notebooks 01–04 and 11 as a static JupyterLite site that needs no server and no CDN.

    python -m lite.build [--out dist/lite]

What it assembles (downloads are cached in ``lite/cache/``, so a rebuild is offline):

* Pyodide's core runtime from npm (``pyodide@PYODIDE``), served from the site itself, with its package lock
  trimmed to ``micropip`` — whose wheel sits beside it — so the kernel never asks a CDN for anything;
* the browser's wheels from PyPI (pure Python, or built for Pyodide's ``pyemscripten`` platform), pinned by
  ``constraints.txt`` like the desktop install, in the site's own package index;
* a wheel of ``course_lib`` itself, whose metadata requires only what these notebooks use (pydantic, ipywidgets, …):
  the broker clients, psycopg and matplotlib are imported lazily, where a section needs them;
* the five notebooks, and a ``jupyter-lite.json`` that turns the PyPI fallback off.

The notebooks' first code cell installs what they need from that index when it sees the browser kernel.
"""

from __future__ import annotations

import argparse
import base64
import email
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import time
import tomllib
import zipfile
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "lite" / "cache"
STAGE = ROOT / "build" / "lite"
OUT = ROOT / "dist" / "lite"
NOTEBOOKS = ("01", "02", "03", "04", "11")

#: the Pyodide that jupyterlite-pyodide-kernel 0.8.6 is built for (its PYODIDE_VERSION)
PYODIDE = "314.0.6"
#: the browser's Python and platform tag (PEP 783), as in pyodide-lock.json's info
BROWSER_PLATFORM = ["--platform", "pyemscripten_2026_0_wasm32", "--python-version", "3.14",
                    "--implementation", "cp", "--abi", "cp314"]
#: what the notebooks import, beyond the standard library and course_lib; the kernel itself needs ipython, jedi,
#: comm; micropip is the package manager Pyodide loads first
BROWSER_PACKAGES = ["pydantic", "pydantic-settings", "ipywidgets", "tqdm", "ipython", "jedi", "comm", "micropip"]
#: the Pyodide kernel's spec in JupyterLite (the notebooks name the desktop's python3)
BROWSER_KERNEL = {"name": "python", "display_name": "Python (Pyodide)", "language": "python"}
#: dependency markers as Pyodide evaluates them
BROWSER_MARKERS = {"sys_platform": "emscripten", "platform_system": "Emscripten", "os_name": "posix",
                   "platform_machine": "wasm32", "python_version": "3.14", "python_full_version": "3.14.2",
                   "implementation_name": "cpython", "platform_python_implementation": "CPython", "extra": ""}
#: the course's wheel for the browser, and what it requires there (versions from constraints.txt)
WHEEL_NAME = "eda_course_lite"
COURSE_REQUIRES = ("pydantic", "pydantic-settings", "ipywidgets", "tqdm")
#: pinned here, not in constraints.txt: the desktop never installs it
MICROPIP = "micropip==0.11.1"
#: the kernel ships its own widgetsnbextension shim; the real one is 2 MB of JavaScript the browser kernel never uses
DROP_WHEELS = ("widgetsnbextension-",)
PYODIDE_FILES = ("pyodide.asm.mjs", "pyodide.asm.wasm", "pyodide.mjs", "pyodide.js", "python_stdlib.zip",
                 "package.json")


class BuildError(RuntimeError):
    """A build step failed; the message says which and what to do."""


def run(command: list[str], what: str, cwd: Path = ROOT) -> None:
    """Run a build step; a failure names the step and shows the end of its output."""
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise BuildError(f"{what} failed (exit {result.returncode}): {' '.join(command)}\n"
                         f"{(result.stdout + result.stderr)[-3000:]}")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def pyodide_tarball() -> Path:
    """Pyodide's npm package, fetched once with npm (the only registry it is published on besides the CDN)."""
    tarball = CACHE / f"pyodide-{PYODIDE}.tgz"
    if not tarball.exists():
        if shutil.which("npm") is None:
            raise BuildError("npm is needed once to fetch Pyodide's runtime: install Node.js (apt-get install npm), "
                             "or put pyodide-{PYODIDE}.tgz from the npm registry in lite/cache/")
        CACHE.mkdir(parents=True, exist_ok=True)
        run(["npm", "pack", f"pyodide@{PYODIDE}", "--pack-destination", str(CACHE)], "npm pack pyodide")
    return tarball


def browser_wheels() -> Path:
    """The wheels the browser installs, with their dependencies as Pyodide sees them, downloaded once.

    pip evaluates dependency markers for the machine it runs on (it would ask for psutil, which IPython needs
    everywhere but in the browser), so the dependencies are walked here with the browser's markers and each level
    is downloaded with ``--no-deps``.
    """
    wheels = CACHE / f"wheels-{PYODIDE}"
    stamp = wheels / ".complete"
    wanted = hashlib.sha256((" ".join(BROWSER_PACKAGES) + (ROOT / "constraints.txt").read_text()).encode()).hexdigest()
    if stamp.exists() and stamp.read_text() == wanted:
        return wheels
    shutil.rmtree(wheels, ignore_errors=True)
    wheels.mkdir(parents=True)
    seen: set[str] = set()
    level = [MICROPIP if name == "micropip" else name for name in BROWSER_PACKAGES]
    while level:
        seen.update(canonicalize_name(Requirement(r).name) for r in level)
        run([sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--quiet", "--no-deps",
             "--dest", str(wheels), *BROWSER_PLATFORM, "--only-binary=:all:", "-c", str(ROOT / "constraints.txt"),
             *level], "downloading the browser's wheels from PyPI")
        level = sorted({canonicalize_name(r.name) for r in _requirements(wheels)} - seen)
    stamp.write_text(wanted)
    return wheels


def _requirements(wheels: Path) -> list[Requirement]:
    """The dependencies of every wheel in ``wheels`` that apply in the browser (no extras)."""
    found = []
    for wheel in wheels.glob("*.whl"):
        with zipfile.ZipFile(wheel) as archive:
            (metadata,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
            message = email.message_from_bytes(archive.read(metadata))
        for line in message.get_all("Requires-Dist") or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate(BROWSER_MARKERS):
                found.append(requirement)
    return found


def course_wheel(dest: Path) -> Path:
    """A pure-Python wheel of course_lib from this checkout, requiring only what the browser has.

    Written directly (a wheel is a zip with a dist-info folder): no build backend to install, and its metadata lists
    the browser's requirements instead of the desktop's broker clients, so one ``piplite.install`` brings all.
    """
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    pins = dict(line.split("==") for line in (ROOT / "constraints.txt").read_text().splitlines()
                if "==" in line and not line.startswith("#"))
    pins = {canonicalize_name(name): pin for name, pin in pins.items()}
    requires = "".join(f"Requires-Dist: {name}=={pins[canonicalize_name(name)]}\n" for name in COURSE_REQUIRES)
    files = {f"course_lib/{path.relative_to(ROOT / 'course_lib').as_posix()}": path.read_bytes()
             for path in sorted((ROOT / "course_lib").rglob("*.py"))}
    info = f"{WHEEL_NAME}-{version}.dist-info"
    files[f"{info}/METADATA"] = (f"Metadata-Version: 2.1\nName: {WHEEL_NAME}\nVersion: {version}\n"
                                 f"Summary: course_lib for the course's browser track\n{requires}").encode()
    files[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: lite.build\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    record = "".join(f"{name},sha256={_digest(data)},{len(data)}\n" for name, data in files.items())
    files[f"{info}/RECORD"] = (record + f"{info}/RECORD,,\n").encode()
    wheel = dest / f"{WHEEL_NAME}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            entry = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))  # reproducible
            archive.writestr(entry, data, compress_type=zipfile.ZIP_DEFLATED)
    return wheel


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def stage_pyodide(tarball: Path, target: Path, micropip_wheel: Path) -> None:
    """Pyodide's runtime in ``static/pyodide``, its lock trimmed to micropip with the wheel beside it."""
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(tarball) as archive:
        for name in PYODIDE_FILES:
            member = archive.extractfile(f"package/{name}")
            if member is None:
                raise BuildError(f"{tarball.name} has no {name}: is it pyodide@{PYODIDE} from npm?")
            (target / name).write_bytes(member.read())
        lock_file = archive.extractfile("package/pyodide-lock.json")
        assert lock_file is not None
        lock: dict[str, Any] = json.load(lock_file)
    shutil.copy(micropip_wheel, target / micropip_wheel.name)
    entry = dict(lock["packages"]["micropip"])
    entry.update(file_name=micropip_wheel.name, sha256=sha256(micropip_wheel))
    lock["packages"] = {"micropip": entry}
    (target / "pyodide-lock.json").write_text(json.dumps(lock, indent=1))


def stage(stage_dir: Path) -> None:
    """Everything ``jupyter lite build`` reads, in one folder."""
    from jupyterlite_pyodide_kernel.constants import PYODIDE_VERSION

    if PYODIDE_VERSION != PYODIDE:
        raise BuildError(f"jupyterlite-pyodide-kernel expects Pyodide {PYODIDE_VERSION}, lite/build.py fetches "
                         f"{PYODIDE}: set PYODIDE to the kernel's version (the pins moved together)")
    shutil.rmtree(stage_dir, ignore_errors=True)
    pypi = stage_dir / "pypi"
    pypi.mkdir(parents=True)
    wheels = browser_wheels()
    (micropip,) = wheels.glob("micropip-*.whl")
    for wheel in sorted(wheels.glob("*.whl")):
        if wheel != micropip and not wheel.name.startswith(DROP_WHEELS):
            shutil.copy(wheel, pypi / wheel.name)
    course_wheel(pypi)
    stage_pyodide(pyodide_tarball(), stage_dir / "static" / "pyodide", micropip)
    contents = stage_dir / "contents"
    contents.mkdir()
    for number in NOTEBOOKS:
        (notebook,) = (ROOT / "notebooks").glob(f"{number}_*.ipynb")
        content = json.loads(notebook.read_text())
        content["metadata"]["kernelspec"] = BROWSER_KERNEL  # else JupyterLite asks which kernel to start
        (contents / notebook.name).write_text(json.dumps(content, indent=1, ensure_ascii=False))
    config = {"jupyter-config-data": {
        "appName": "Event-driven architecture with Python — in your browser",
        "litePluginSettings": {"@jupyterlite/pyodide-kernel-extension:kernel": {"disablePyPIFallback": True}},
    }}
    (stage_dir / "jupyter-lite.json").write_text(json.dumps(config, indent=2))


def build(out: Path = OUT, stage_dir: Path = STAGE) -> Path:
    """Stage and build the site into ``out``; returns ``out``."""
    stage(stage_dir)
    shutil.rmtree(out, ignore_errors=True)
    run([sys.executable, "-m", "jupyter", "lite", "build", "--lite-dir", str(stage_dir),
         "--contents", str(stage_dir / "contents"), "--output-dir", str(out), "--no-sourcemaps"],
        "jupyter lite build", cwd=stage_dir)  # its task database (.jupyterlite.doit.db) stays in the stage
    check_offline(out)
    return out


def check_offline(out: Path) -> None:
    """The built site loads Pyodide from itself and never falls back to PyPI (a CDN URL here is a build bug)."""
    config = json.loads((out / "jupyter-lite.json").read_text())["jupyter-config-data"]
    kernel = config["litePluginSettings"]["@jupyterlite/pyodide-kernel-extension:kernel"]
    if not kernel.get("disablePyPIFallback") or str(kernel.get("pyodideUrl", "")).startswith("http"):
        raise BuildError(f"the built site would fetch from the internet: {kernel}")


def size_mb(path: Path) -> float:
    """The site's size on disk, in MB."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lite.build", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="where the site goes (default: dist/lite)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        out = build(args.out.resolve())
    except BuildError as exc:
        print(f"lite build: {exc}", file=sys.stderr)
        return 1
    print(f"built {out} ({size_mb(out):.0f} MB) in {time.monotonic() - started:.0f} s; "
          "serve it with `make lite-serve`")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
