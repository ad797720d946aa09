"""docker-compose.yml describes the production stack the README promises."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

COMPOSE = Path(__file__).resolve().parents[1] / "docker-compose.yml"


@pytest.fixture(scope="module")
def services() -> dict[str, dict[str, Any]]:
    loaded = yaml.safe_load(COMPOSE.read_text())
    result: dict[str, dict[str, Any]] = loaded["services"]
    return result


def _command(service: dict[str, Any]) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else str(command)


def _helpdesk_services(services: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {name: s for name, s in services.items() if _command(s).startswith("helpdesk ")}


def _api_replicas(services: dict[str, dict[str, Any]]) -> list[str]:
    return sorted(name for name, s in services.items() if _command(s).startswith("helpdesk serve"))


def test_every_service_names_an_image(services: dict[str, dict[str, Any]]) -> None:
    assert services
    assert {name for name, s in services.items() if not s.get("image")} == set()


def test_the_stack_has_postgres_redis_a_worker_and_a_mail_catcher(
    services: dict[str, dict[str, Any]],
) -> None:
    images = {name: str(s["image"]) for name, s in services.items()}
    assert any(image.startswith("postgres") for image in images.values())
    assert any(image.startswith("redis") for image in images.values())
    assert any(image.startswith(("axllent/mailpit", "mailhog/")) for image in images.values())
    assert [name for name, s in services.items() if _command(s) == "helpdesk worker"] == ["worker"]


def test_two_api_replicas_serve_the_app(services: dict[str, dict[str, Any]]) -> None:
    assert len(_api_replicas(services)) == 2


def test_every_helpdesk_service_has_the_database_and_redis_urls(services: dict[str, dict[str, Any]]) -> None:
    helpdesk = _helpdesk_services(services)
    assert len(helpdesk) >= 4  # migrations, two API replicas, a worker
    for name, service in helpdesk.items():
        environment = service.get("environment") or {}
        assert environment.get("HELPDESK_DATABASE_URL", "").startswith("postgresql+asyncpg://"), name
        assert environment.get("HELPDESK_REDIS_URL", "").startswith("redis://"), name


def test_the_api_replicas_start_only_after_migrations_have_run(services: dict[str, dict[str, Any]]) -> None:
    migrations = [name for name, s in services.items() if _command(s) == "helpdesk db upgrade"]
    assert len(migrations) == 1
    for name in _api_replicas(services):
        depends_on = services[name]["depends_on"]
        assert isinstance(depends_on, dict), f"{name} must wait for a condition, not only the start order"
        assert depends_on[migrations[0]] == {"condition": "service_completed_successfully"}, name
