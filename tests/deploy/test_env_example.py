""".env.example: the variables docker-compose.yml reads, and nothing secret."""

from __future__ import annotations

import re
from typing import Any

from deploy.composefile import REPO, secret_variables, variables
from ragis.client.settings import ClientSettings
from ragis.gateway.settings import GatewaySettings
from ragis.rag.settings import RagSettings
from ragis.settings import UpSettings

EXAMPLE = REPO / ".env.example"


def strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for item in value.values() for s in strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in strings(item)]
    return [value] if isinstance(value, str) else []


def example_names() -> set[str]:
    """Every NAME of `NAME=...` lines, also of commented-out ones (`# NAME=...`)."""
    return set(re.findall(r"^(?:# )?([A-Z][A-Z0-9_]*)=", EXAMPLE.read_text(), re.M))


def ragis_names() -> set[str]:
    names = set()
    for settings in (RagSettings, GatewaySettings, ClientSettings, UpSettings):
        for field in settings.model_fields.values():
            names.update(getattr(field.validation_alias, "choices", []))
    return {str(name) for name in names if str(name).isupper()}


def test_the_example_names_every_variable_the_compose_file_reads_and_no_other(
    compose: dict[str, Any],
) -> None:
    used = {name for text in strings(compose) for name in variables(text)}
    used |= set(secret_variables(compose).values())
    assert used == example_names()


def test_the_example_holds_no_secret(env_example: dict[str, str]) -> None:
    for name in ("RAGIS_REDIS_PASSWORD", "RAGIS_INTERNAL_TOKEN", "RAGIS_ADMIN_PASSWORD"):
        assert env_example[name] == "", name
    assert env_example["OPENAI_API_KEY"] == ""


def test_a_variable_ragis_also_reads_from_dotenv_means_the_same_to_the_containers(
    compose: dict[str, Any],
) -> None:
    """ragis reads `.env` from its working directory too (`./scripts/up` run next to the compose
    file): a name both read must go to the containers unchanged (as a variable, or as the secret
    file its *_FILE variable names); the others are compose-only."""
    passed_as_is = {
        name
        for service in compose["services"].values()
        for name, value in service.get("environment", {}).items()
        if re.fullmatch(rf"\$\{{{name}(:-[^}}]*)?\}}", str(value))
    }
    as_secrets = {
        variable
        for secret, variable in secret_variables(compose).items()
        for service in compose["services"].values()
        if service.get("environment", {}).get(f"{variable}_FILE") == f"/run/secrets/{secret}"
    }
    shared = example_names() & ragis_names()
    assert shared <= passed_as_is | as_secrets
    assert shared == {
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "RAGIS_LLM_PROVIDER",
        "RAGIS_LLM_MODEL",
        "RAGIS_EMBED_BACKEND",
        "RAGIS_EMBED_PROVIDER",
        "RAGIS_EMBED_MODEL",
        "RAGIS_EMBED_BASE_URL",
        "RAGIS_EMBED_API_KEY",
        "RAGIS_LOG_FORMAT",
        "RAGIS_OTEL_ENDPOINT",
        "RAGIS_METRICS_TOKEN",
        "RAGIS_ALLOWED_HOSTS",
        "RAGIS_TRUSTED_PROXIES",
        "RAGIS_REDIS_PASSWORD",
        "RAGIS_INTERNAL_TOKEN",
        "RAGIS_AUTH",
        "RAGIS_ADMIN_USER",
        "RAGIS_ADMIN_PASSWORD",
    }
