"""docker-compose.yml and the devcontainer's compose file are valid Compose files and keep the README's promises.

No Docker engine runs here, so validity is checked against the Compose Specification's JSON schema, shipped in
``tools/schemas/`` (the GitHub workflow starts the real stack). The promises: loopback-only ports, pinned images,
health checks, and a Kafka listener that the host (and the devcontainer) can reach.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.conftest import ROOT
from tools.schema_check import COMPOSE_FILES, check_file, load_yaml, problems

DEVCONTAINER = ROOT / ".devcontainer"


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = load_yaml(ROOT / "docker-compose.yml")
    return loaded


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_compose_file_matches_the_compose_specification(path: Any) -> None:
    assert check_file(path) == []


@pytest.mark.parametrize(("change", "complaint"), [
    (lambda c: c.update({"servics": c.pop("services")}), "servics"),
    (lambda c: c["services"]["kafka"].update({"ports": "127.0.0.1:9092:9092"}), "is not of type 'array'"),
    (lambda c: c["services"]["kafka"].update({"depends_on": "rabbitmq"}), "'rabbitmq' is not valid"),
    (lambda c: c["services"]["postgres"].update({"enviroment": {}}), "enviroment"),
])
def test_the_schema_check_catches_a_broken_compose_file(change: Any, complaint: str) -> None:
    compose = _compose()
    change(compose)
    found = problems(compose, "compose-spec.json", "docker-compose.yml")
    assert any(complaint in line for line in found), found


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


# --- .devcontainer ------------------------------------------------------------------------------------------------


def _devcontainer() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DEVCONTAINER / "devcontainer.json").read_text())
    return loaded


def test_the_devcontainer_runs_python_beside_every_service_of_the_compose_stack() -> None:
    config = _devcontainer()
    files = [DEVCONTAINER / name for name in config["dockerComposeFile"]]
    assert all(f.exists() for f in files) and files[0].resolve() == ROOT / "docker-compose.yml"
    merged: dict[str, Any] = {}
    for compose in files:
        merged.update(load_yaml(compose)["services"])
    assert config["service"] == "workspace" and set(config["runServices"]) == set(merged)
    image = merged["workspace"]["image"]
    major, minor = (int(n) for n in re.search(r"python:\d+-(\d+)\.(\d+)", image).groups())  # type: ignore[union-attr]
    assert (major, minor) >= (3, 11), image
    assert set(merged["workspace"]["depends_on"]) == {"rabbitmq", "kafka"}  # postgres has a profile: runServices


def test_the_devcontainer_points_the_course_at_the_services_by_name() -> None:
    from course_lib.config import Settings

    env = load_yaml(DEVCONTAINER / "docker-compose.yml")["services"]["workspace"]["environment"]
    kafka_env = _compose()["services"]["kafka"]["environment"]
    internal = dict(i.split("://") for i in kafka_env["KAFKA_ADVERTISED_LISTENERS"].split(","))["INTERNAL"]
    assert env["COURSE_KAFKA_BOOTSTRAP_SERVERS"] == internal
    settings = Settings(_env_file=None, **{k.removeprefix("COURSE_").lower(): v for k, v in env.items()})
    assert settings.rabbitmq_url.startswith("amqp://guest:guest@rabbitmq:5672")
    assert "@postgres:5432/test" in settings.postgres_url
    assert _devcontainer()["postCreateCommand"] == "make setup"  # the learner's install
