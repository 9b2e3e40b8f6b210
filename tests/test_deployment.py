"""The Dockerfile and compose files name only what exists in the project.

No Docker engine runs in the test environment, so these checks parse the
files: build targets are Dockerfile stages, jwp commands are `jwp serve`
with a real role, and every environment variable of a jwp service is a
setting of `jwp.config.Settings`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from jwp.config import Role, Settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILES = ["docker-compose.yml", "docker-compose-scalable.yml"]
EXTERNAL_IMAGES = {"redis", "mariadb"}
"""Images of services jwp uses but does not build."""


def setting_names() -> set[str]:
    names = {name.upper() for name in Settings.model_fields}
    for field in Settings.model_fields.values():
        aliases = getattr(field.validation_alias, "choices", None) or []
        names.update(str(alias).upper() for alias in aliases)
    return names


def dockerfile_stages() -> set[str]:
    text = (ROOT / "Dockerfile").read_text()
    return set(re.findall(r"^FROM\s+\S+\s+AS\s+(\S+)", text, flags=re.MULTILINE | re.IGNORECASE))


def jwp_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: service
        for name, service in compose["services"].items()
        if "build" in service or str(service.get("image", "")).startswith("jwp:")
    }


def load(name: str) -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / name).read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_dockerfile_env_names_are_settings() -> None:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    names = set()
    for line in text.splitlines():
        if line.startswith("ENV "):
            names.update(re.findall(r"(\w+)=", line))
    names.discard("PATH")
    assert names
    assert names <= setting_names(), names - setting_names()


def test_dockerfile_command_is_jwp_serve() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert 'CMD ["jwp", "serve", "--role", "all"]' in text
    assert {"build", "runtime"} <= dockerfile_stages()


@pytest.mark.parametrize("name", COMPOSE_FILES)
def test_compose_jwp_services_are_valid(name: str) -> None:
    compose = load(name)
    services = jwp_services(compose)
    assert services
    stages = dockerfile_stages()
    settings = setting_names()
    roles = {role.value for role in Role}
    built_images = set()
    for service_name, service in services.items():
        if "build" in service:
            assert service["build"]["target"] in stages, service_name
            built_images.add(service["image"])
        command = service["command"]
        assert command[:2] == ["jwp", "serve"], service_name
        assert command[2] == "--role" and command[3] in roles, service_name
        environment = service.get("environment", {})
        assert set(environment) <= settings, (service_name, set(environment) - settings)
        if environment.get("STORAGE_TYPE"):
            Settings(_env_file=None, **{key.lower(): value for key, value in environment.items()})  # type: ignore[arg-type]
    for service_name, service in services.items():
        assert service["image"] in built_images, service_name
    for service_name, service in compose["services"].items():
        if service_name not in services:
            assert str(service["image"]).split(":")[0] in EXTERNAL_IMAGES, service_name


def test_scalable_compose_scales_workers() -> None:
    compose = load("docker-compose-scalable.yml")
    services = compose["services"]
    worker = services["worker"]
    assert worker["command"][3] == Role.WORKER.value
    # Several replicas can only run without a fixed host port or container name.
    assert "ports" not in worker
    assert "container_name" not in worker
    assert services["front"]["command"][3] == Role.FRONT.value
    for name in ("front", "worker"):
        environment = services[name]["environment"]
        assert environment["STORAGE_TYPE"] == "Scalable"
        assert environment["REDIS_URL"] == "redis://redis:6379"
        assert environment["MYSQL_HOST"] == "mariadb"
    mariadb = services["mariadb"]["environment"]
    front = services["front"]["environment"]
    assert mariadb["MARIADB_DATABASE"] == front["MYSQL_DBNAME"]
    assert mariadb["MARIADB_USER"] == front["MYSQL_USER"]
    assert mariadb["MARIADB_PASSWORD"] == front["MYSQL_PASSWORD"]
