"""docker-compose.yml: what the schema cannot say."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from deploy.composefile import (
    REPO,
    InterpolationError,
    interpolate,
    load_compose,
    port_targets,
)
from deploy.dockerfile import Dockerfile
from ragis.gateway.settings import GatewaySettings, load_gateway_settings
from ragis.rag.settings import RagSettings, load_rag_settings
from ragis.settings import SettingsBase

#: Variables of the images that are not ragis settings (Python's, the model hub's, the shell's).
IMAGE_VARIABLES = {"PATH", "PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED", "HF_HUB_OFFLINE"}
LLM_PASS_THROUGH = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "RAGIS_LLM_PROVIDER", "RAGIS_LLM_MODEL")


def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = compose["services"]
    return result


def members(compose: dict[str, Any], network: str) -> set[str]:
    return {name for name, s in services(compose).items() if network in s.get("networks", [])}


def setting_names(settings: type[SettingsBase]) -> set[str]:
    names = set()
    for field in settings.model_fields.values():
        alias = field.validation_alias
        choices = getattr(alias, "choices", [alias])
        names.update(str(choice) for choice in choices if isinstance(choice, str))
    return {name for name in names if name.isupper()}


def container_env(resolved: dict[str, Any], dockerfile: Dockerfile, service: str) -> dict[str, str]:
    """What a container of this service gets: its image's ENV, then the compose file's."""
    spec = services(resolved)[service]
    return {**dockerfile.env(dockerfile.stage(spec["build"]["target"])), **spec["environment"]}


def test_every_service_has_a_health_check(compose: dict[str, Any]) -> None:
    for name, service in services(compose).items():
        check = service.get("healthcheck", {})
        assert check.get("test"), name
        assert not check.get("disable"), name
        assert check["test"][0] in ("CMD", "CMD-SHELL"), name


def test_every_dependency_is_waited_for_until_healthy(compose: dict[str, Any]) -> None:
    dependencies = {
        name: service["depends_on"]
        for name, service in services(compose).items()
        if "depends_on" in service
    }
    assert dependencies == {
        "rag": {"redis": {"condition": "service_healthy"}},
        "gateway": {"rag": {"condition": "service_healthy"}},
        "ui-dev": {"gateway": {"condition": "service_healthy"}},
    }


def test_the_rag_service_is_reachable_from_the_gateway_only(compose: dict[str, Any]) -> None:
    rag = services(compose)["rag"]
    assert "ports" not in rag
    networks = compose["networks"]
    for network in rag["networks"]:
        others = members(compose, network) - {"rag"}
        if others:
            # Shared only with redis and the gateway, and closed to everything else.
            assert others <= {"redis", "gateway"}, network
            assert networks[network].get("internal") is True, network
    assert members(compose, "backend") == {"redis", "rag", "gateway"}
    # Its way out to the LLM is a network of its own: nothing else can come in through it.
    (egress,) = set(rag["networks"]) - {"backend"}
    assert members(compose, egress) == {"rag"}
    assert not networks[egress].get("internal")


def test_redis_is_on_the_internal_network_only_and_publishes_nothing(
    compose: dict[str, Any],
) -> None:
    redis = services(compose)["redis"]
    assert redis["networks"] == ["backend"]
    assert "ports" not in redis


def test_only_the_gateway_and_the_dev_server_publish_ports_and_on_loopback(
    resolved: dict[str, Any],
) -> None:
    published = {name: s["ports"] for name, s in services(resolved).items() if "ports" in s}
    assert published == {"gateway": ["127.0.0.1:8080:8080"], "ui-dev": ["127.0.0.1:5173:5173"]}
    gateway = services(resolved)["gateway"]
    assert set(gateway["networks"]) == {"backend", "frontend"}
    assert not resolved["networks"]["frontend"].get("internal")


def test_the_gateway_address_and_port_on_the_host_come_from_the_env(
    compose: dict[str, Any], compose_env: dict[str, str]
) -> None:
    env = {**compose_env, "RAGIS_PUBLISH_HOST": "0.0.0.0", "RAGIS_PUBLISH_PORT": "80"}
    assert services(interpolate(compose, env))["gateway"]["ports"] == ["0.0.0.0:80:8080"]


def test_redis_needs_a_password_from_the_env_and_appends_to_a_named_volume(
    compose: dict[str, Any], compose_env: dict[str, str], redis_password: str
) -> None:
    redis = services(compose)["redis"]
    command = redis["command"]
    password = command[command.index("--requirepass") + 1]
    assert password.startswith("${RAGIS_REDIS_PASSWORD:?"), "never a password in the file"
    assert command[command.index("--appendonly") + 1] == "yes"
    (volume,) = redis["volumes"]
    name, target = volume.split(":")
    assert name in compose["volumes"], "a named volume, declared at the top level"
    assert not name.startswith((".", "/")), "a named volume, not a bind mount"
    assert target == "/data"
    resolved = interpolate(compose, compose_env)
    assert services(resolved)["redis"]["environment"]["REDISCLI_AUTH"] == redis_password
    with pytest.raises(InterpolationError, match="RAGIS_REDIS_PASSWORD"):
        interpolate(compose, {**compose_env, "RAGIS_REDIS_PASSWORD": ""})


def test_the_rag_service_reaches_redis_with_the_password(
    resolved: dict[str, Any], redis_password: str
) -> None:
    url = services(resolved)["rag"]["environment"]["REDIS_URL"]
    assert url == f"redis://:{redis_password}@redis:6379/0"
    assert "REDIS_URL" not in services(resolved)["gateway"]["environment"], "it needs no Redis"


def test_the_rag_service_reaches_the_host_and_gets_the_llm_settings_of_the_host(
    compose: dict[str, Any], compose_env: dict[str, str]
) -> None:
    rag = services(compose)["rag"]
    assert "host.docker.internal:host-gateway" in rag["extra_hosts"]
    for name in LLM_PASS_THROUGH:
        assert re.fullmatch(rf"\$\{{{name}:-[^}}]*\}}", rag["environment"][name]), name
    host = {
        "OPENAI_API_KEY": "sk-from-the-host",
        "OPENAI_BASE_URL": "http://host.docker.internal:8000/v1",
        "RAGIS_LLM_PROVIDER": "openai",
        "RAGIS_LLM_MODEL": "qwen3",
    }
    passed = services(interpolate(compose, {**compose_env, **host}))["rag"]["environment"]
    assert {name: passed[name] for name in host} == host
    defaults = services(interpolate(compose, {"RAGIS_REDIS_PASSWORD": "x"}))["rag"]["environment"]
    assert defaults["OLLAMA_BASE_URL"] == "http://host.docker.internal:11434"
    assert defaults["OPENAI_API_KEY"] == ""
    assert defaults["RAGIS_LLM_PROVIDER"] == "auto"


@pytest.mark.parametrize(
    ("service", "settings"), [("rag", RagSettings), ("gateway", GatewaySettings)]
)
def test_every_variable_a_ragis_container_gets_is_a_setting_it_knows(
    resolved: dict[str, Any], dockerfile: Dockerfile, service: str, settings: type[SettingsBase]
) -> None:
    unknown = set(container_env(resolved, dockerfile, service)) - IMAGE_VARIABLES
    assert unknown - setting_names(settings) == set()


def test_the_rag_container_environment_loads_as_intended(
    resolved: dict[str, Any],
    dockerfile: Dockerfile,
    redis_password: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in container_env(resolved, dockerfile, "rag").items():
        monkeypatch.setenv(name, value)
    settings = load_rag_settings(_env_file=None)
    assert (settings.rag_host, settings.rag_port) == ("0.0.0.0", 8001)
    assert settings.redis_url == f"redis://:{redis_password}@redis:6379/0"
    assert settings.ollama_base_url == "http://host.docker.internal:11434"
    assert settings.openai_api_key is None
    assert settings.openai_base_url is None
    assert settings.llm_model is None
    assert settings.llm_provider == "auto"


def test_the_gateway_container_environment_loads_as_intended(
    resolved: dict[str, Any], dockerfile: Dockerfile, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in container_env(resolved, dockerfile, "gateway").items():
        monkeypatch.setenv(name, value)
    settings = load_gateway_settings(_env_file=None)
    assert (settings.gateway_host, settings.gateway_port) == ("0.0.0.0", 8080)
    assert settings.rag_urls == ["http://rag:8001"]
    assert settings.static_dir == Path("/opt/ragis/ui")


def test_scaling_out_needs_no_fixed_name_or_host_port(compose: dict[str, Any]) -> None:
    for name, service in services(compose).items():
        assert "container_name" not in service, name
        assert "hostname" not in service, name
    assert "ports" not in services(compose)["rag"]


def test_the_gateway_takes_every_replica_listed_in_the_env_example(
    compose_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    example = re.search(
        r"^# RAGIS_COMPOSE_RAG_URLS=(\S+)$", (REPO / ".env.example").read_text(), re.M
    )
    assert example, ".env.example shows how to list the replicas"
    env = {**compose_env, "RAGIS_COMPOSE_RAG_URLS": example[1]}
    urls = services(interpolate(load_compose(), env))["gateway"]["environment"]["RAGIS_RAG_URL"]
    monkeypatch.setenv("RAGIS_RAG_URL", urls)
    replicas = load_gateway_settings(_env_file=None).rag_urls
    # Compose names the replicas <project>-<service>-<n>: the project name is fixed for that.
    assert replicas == ["http://ragis-rag-1:8001", "http://ragis-rag-2:8001"]
    assert load_compose()["name"] == "ragis"


def test_the_dev_server_is_in_the_dev_profile_only_and_proxies_to_the_gateway(
    compose: dict[str, Any],
) -> None:
    profiles = {name: s.get("profiles") for name, s in services(compose).items()}
    assert profiles == {"redis": None, "rag": None, "gateway": None, "ui-dev": ["dev"]}
    ui = services(compose)["ui-dev"]
    assert ui["environment"]["RAGIS_GATEWAY_URL"] == "http://gateway:8080"
    assert port_targets(ui) == [5173]
    vite = (REPO / "frontend" / "vite.config.ts").read_text()
    assert "process.env.RAGIS_GATEWAY_URL" in vite
    assert re.search(r"server:\s*\{[^}]*port:\s*5173", vite)
    for volume in ui["volumes"]:
        source = volume.split(":")[0]
        assert (REPO / source).exists(), volume


def test_each_built_service_is_a_target_of_the_repository_dockerfile(
    compose: dict[str, Any], dockerfile: Dockerfile
) -> None:
    built = {name: s["build"] for name, s in services(compose).items() if "build" in s}
    assert set(built) == {"rag", "gateway", "ui-dev"}
    for name, build in built.items():
        assert build["context"] == ".", name
        assert build["dockerfile"] == "docker/Dockerfile", name
        stage = dockerfile.stage(build["target"])
        exposed = sorted(
            int(port.split("/")[0])
            for s in dockerfile.chain(stage)
            for i in s.all("EXPOSE")
            for port in i.args.split()
        )
        assert exposed == port_targets(services(compose)[name]), name


def test_no_container_gains_privileges_and_ours_drop_every_capability(
    compose: dict[str, Any],
) -> None:
    for name, service in services(compose).items():
        assert "no-new-privileges:true" in service.get("security_opt", []), name
        assert not service.get("privileged"), name
        for volume in service.get("volumes", []):
            assert "docker.sock" not in volume, name
        if "build" in service:
            assert service.get("cap_drop") == ["ALL"], name
