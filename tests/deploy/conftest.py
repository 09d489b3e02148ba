"""Fixtures of tests/deploy: the compose file, .env.example and the Dockerfile, as Docker reads
them. Nothing here needs a Docker engine (there is none on the machines that run the tests)."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from deploy.composefile import REPO, interpolate, load_compose, read_env_file
from deploy.dockerfile import Dockerfile


@pytest.fixture(scope="session")
def compose() -> dict[str, Any]:
    """docker-compose.yml as written (`${...}` not yet interpolated)."""
    return load_compose()


@pytest.fixture(scope="session")
def env_example() -> dict[str, str]:
    return read_env_file(REPO / ".env.example")


@pytest.fixture(scope="session")
def redis_password() -> str:
    return secrets.token_hex(16)


@pytest.fixture(scope="session")
def compose_token() -> str:
    """The internal token of .env (not `internal_token`: that is the services' fixtures')."""
    return secrets.token_urlsafe(32)


ADMIN_USER = "admin"
ADMIN_PASSWORD = "a long admin password"


@pytest.fixture(scope="session")
def compose_env(
    env_example: dict[str, str], redis_password: str, compose_token: str
) -> dict[str, str]:
    """What `docker compose` reads after `cp .env.example .env` and setting the secrets and the
    first admin."""
    return {
        **env_example,
        "RAGIS_REDIS_PASSWORD": redis_password,
        "RAGIS_INTERNAL_TOKEN": compose_token,
        "RAGIS_ADMIN_USER": ADMIN_USER,
        "RAGIS_ADMIN_PASSWORD": ADMIN_PASSWORD,
    }


@pytest.fixture(scope="session")
def resolved(compose: dict[str, Any], compose_env: dict[str, str]) -> dict[str, Any]:
    """docker-compose.yml interpolated as `docker compose` would with that `.env`."""
    result: dict[str, Any] = interpolate(compose, compose_env)
    return result


@pytest.fixture(scope="session")
def dockerfile() -> Dockerfile:
    return Dockerfile.parse(REPO / "docker" / "Dockerfile")
