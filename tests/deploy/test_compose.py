"""docker-compose.yml: what the schema cannot say."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from deploy.composefile import (
    REPO,
    SECRETS_DIR,
    InterpolationError,
    interpolate,
    load_compose,
    port_targets,
    secret_variables,
    write_secrets,
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
        "gateway": {
            "redis": {"condition": "service_healthy"},
            "rag": {"condition": "service_healthy"},
        },
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


def test_redis_signs_in_only_the_acl_user_and_appends_to_a_named_volume(
    compose: dict[str, Any],
) -> None:
    redis = services(compose)["redis"]
    script = " ".join(redis["command"])
    assert "--aclfile /data/users.acl" in script
    assert "--appendonly yes" in script
    assert "/run/secrets/redis_password" in script
    assert "--requirepass" not in script, "the default user is off: no password of its own"
    data, acl = redis["volumes"]
    name, target = data.split(":")
    assert name in compose["volumes"], "a named volume, declared at the top level"
    assert not name.startswith((".", "/")), "a named volume, not a bind mount"
    assert target == "/data"
    assert acl == "./docker/redis/users.acl:/usr/local/etc/redis/users.acl:ro"
    assert "environment" not in redis, "the health check reads the password from the secret"
    # It runs as the image's redis user, with nothing more.
    assert redis["user"] == "999:999"
    assert redis["cap_drop"] == ["ALL"]


def test_the_secrets_come_from_the_env_and_reach_each_service_as_files_only(
    compose: dict[str, Any],
    compose_env: dict[str, str],
    redis_password: str,
    compose_token: str,
    tmp_path: Path,
) -> None:
    assert secret_variables(compose) == {
        "redis_password": "RAGIS_REDIS_PASSWORD",
        "internal_token": "RAGIS_INTERNAL_TOKEN",
    }
    given = {name: s.get("secrets", []) for name, s in services(compose).items()}
    assert given == {
        "redis": ["redis_password"],
        "rag": ["redis_password", "internal_token"],
        "gateway": ["redis_password", "internal_token"],
        "ui-dev": [],
    }
    # Never a secret in the file, and never one in a container's environment or command.
    text = (REPO / "docker-compose.yml").read_text()
    assert "${RAGIS_REDIS_PASSWORD" not in text
    assert "${RAGIS_INTERNAL_TOKEN" not in text
    resolved = repr(interpolate(compose, compose_env))
    assert redis_password not in resolved
    assert compose_token not in resolved
    missing = {k: v for k, v in compose_env.items() if k != "RAGIS_REDIS_PASSWORD"}
    with pytest.raises(InterpolationError, match="RAGIS_REDIS_PASSWORD"):
        write_secrets(compose, missing, tmp_path)


@pytest.mark.parametrize("service", ["rag", "gateway"])
def test_both_services_reach_redis_as_the_acl_user_with_the_secret_files(
    resolved: dict[str, Any], service: str
) -> None:
    env = services(resolved)[service]["environment"]
    assert env["REDIS_URL"] == "redis://ragis@redis:6379/0"
    assert env["RAGIS_REDIS_PASSWORD_FILE"] == f"{SECRETS_DIR}/redis_password"
    assert env["RAGIS_INTERNAL_TOKEN_FILE"] == f"{SECRETS_DIR}/internal_token"
    assert "RAGIS_KEY_PREFIX" not in env, "the ACL's key pattern is the default prefix's"


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


def set_container_env(
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str],
    resolved: dict[str, Any],
    compose_env: dict[str, str],
    tmp_path: Path,
) -> None:
    """The container's environment, its /run/secrets being a folder of this test's."""
    secrets = write_secrets(resolved, compose_env, tmp_path / "secrets")
    for name, value in env.items():
        monkeypatch.setenv(name, value.replace(SECRETS_DIR, str(secrets)))


def test_the_rag_container_environment_loads_as_intended(
    resolved: dict[str, Any],
    dockerfile: Dockerfile,
    compose_env: dict[str, str],
    redis_password: str,
    compose_token: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    env = container_env(resolved, dockerfile, "rag")
    set_container_env(monkeypatch, env, resolved, compose_env, tmp_path)
    settings = load_rag_settings(_env_file=None)
    assert (settings.rag_host, settings.rag_port) == ("0.0.0.0", 8001)
    assert settings.redis_url == f"redis://ragis:{redis_password}@redis:6379/0"
    assert settings.internal_token is not None
    assert settings.internal_token.get_secret_value() == compose_token
    assert settings.key_prefix == "ragis"
    assert settings.ollama_base_url == "http://host.docker.internal:11434"
    assert settings.openai_api_key is None
    assert settings.openai_base_url is None
    assert settings.llm_model is None
    assert settings.llm_provider == "auto"


def test_the_gateway_container_environment_loads_as_intended(
    resolved: dict[str, Any],
    dockerfile: Dockerfile,
    compose_env: dict[str, str],
    redis_password: str,
    compose_token: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    env = container_env(resolved, dockerfile, "gateway")
    set_container_env(monkeypatch, env, resolved, compose_env, tmp_path)
    settings = load_gateway_settings(_env_file=None)
    assert (settings.gateway_host, settings.gateway_port) == ("0.0.0.0", 8080)
    assert settings.redis_url == f"redis://ragis:{redis_password}@redis:6379/0"
    assert settings.internal_token is not None
    assert settings.internal_token.get_secret_value() == compose_token
    # Sign-in is on in the container (it binds 0.0.0.0), with the first admin of .env.
    assert settings.auth_on
    assert settings.admin_user == compose_env["RAGIS_ADMIN_USER"]
    assert settings.admin_password is not None
    assert settings.admin_password.get_secret_value() == compose_env["RAGIS_ADMIN_PASSWORD"]
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
