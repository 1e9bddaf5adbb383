"""environment.yml installs exactly what pyproject.toml pins (docker-compose.yml: see test_compose_file.py).

Two descriptions of one environment drift apart silently; these tests make the drift a red test instead of a
workshop where conda users get different versions.
"""

from __future__ import annotations

import re
import sys
import tomllib
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT

_REQUIREMENT = re.compile(r"^([A-Za-z0-9_.\-]+(?:\[[A-Za-z0-9_,\-]+\])?)==([A-Za-z0-9_.+\-]+)$")


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(requirements: list[str], where: str) -> dict[str, str]:
    pins: dict[str, str] = {}
    for requirement in requirements:
        match = _REQUIREMENT.match(requirement.replace(" ", ""))
        assert match, f"{where}: {requirement!r} is not pinned as name==version"
        name = _normalise(match.group(1))
        assert name not in pins, f"{where}: {name} is listed twice"
        pins[name] = match.group(2)
    return pins


def _pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _environment() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "environment.yml").read_text())
    return loaded


def _pip_section(environment: dict[str, Any]) -> list[str]:
    sections = [d["pip"] for d in environment["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(sections) == 1, "environment.yml needs exactly one pip: section"
    return [str(line) for line in sections[0]]


def pyproject_pins() -> dict[str, str]:
    """Every dependency of pyproject.toml, with every extra, as {normalised name[extras]: version}."""
    project = _pyproject()["project"]
    requirements = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        requirements.extend(extra)
    return _pins(requirements, "pyproject.toml")


def environment_pins() -> dict[str, str]:
    """The pinned packages of environment.yml's pip section (options such as ``-e .`` left out)."""
    lines = [line for line in _pip_section(_environment()) if not line.startswith("-")]
    return _pins(lines, "environment.yml")


def test_environment_pins_equal_pyproject_pins() -> None:
    ours, theirs = pyproject_pins(), environment_pins()
    only_pyproject = {k: v for k, v in ours.items() if k not in theirs}
    only_environment = {k: v for k, v in theirs.items() if k not in ours}
    different = {k: (ours[k], theirs[k]) for k in ours.keys() & theirs.keys() if ours[k] != theirs[k]}
    assert not only_pyproject, f"in pyproject.toml but missing from environment.yml: {only_pyproject}"
    assert not only_environment, f"in environment.yml but not in pyproject.toml: {only_environment}"
    assert not different, f"pinned differently (pyproject.toml, environment.yml): {different}"


def test_environment_installs_the_course_with_the_same_python_and_constraints() -> None:
    environment = _environment()
    assert environment["name"] == "eda-course"
    pythons = [d for d in environment["dependencies"] if isinstance(d, str) and d.startswith("python")]
    assert pythons == ["python=3.11"]
    minimum = _pyproject()["project"]["requires-python"]
    assert minimum == ">=3.11", "environment.yml's python=3.11 must satisfy requires-python"
    pip = _pip_section(environment)
    assert "-e ." in pip, "environment.yml must install course_lib itself"
    assert "-c constraints.txt" in pip, "environment.yml must pin transitive dependencies like `make setup`"


def test_every_direct_pin_agrees_with_constraints_txt() -> None:
    constraints = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.strip().partition("==")
            constraints[_normalise(name)] = version
    for requirement, version in environment_pins().items():
        name = requirement.split("[")[0]
        assert constraints.get(name) == version, f"{name}=={version} but constraints.txt says {constraints.get(name)}"


def test_the_drift_check_notices_a_changed_pin(monkeypatch: pytest.MonkeyPatch) -> None:
    # The comparison above would pass vacuously if both parsers returned nothing; prove it sees a difference.
    assert len(pyproject_pins()) >= 20
    drifted = (ROOT / "environment.yml").read_text().replace("pika==1.4.4", "pika==1.3.2")
    monkeypatch.setattr(sys.modules[__name__], "_environment", lambda: yaml.safe_load(drifted))
    with pytest.raises(AssertionError, match="pika"):
        test_environment_pins_equal_pyproject_pins()
