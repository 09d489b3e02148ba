from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path

import pytest

import ragis
from ragis.client.settings import ClientSettings, load_client_settings
from ragis.errors import ConfigError
from ragis.gateway.settings import GatewaySettings, load_gateway_settings
from ragis.rag.settings import RagSettings, load_rag_settings
from ragis.settings import (
    LLMProviderName,
    Quantization,
    ServiceSettings,
    Settings,
    SettingsBase,
    UpSettings,
    load_settings,
    load_up_settings,
)

SRC = Path(ragis.__file__).parent


def test_defaults_match_the_documented_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("REDIS_URL", "RAGIS_DATA_DIR", "RAGIS_KEY_PREFIX", "RAGIS_REDIS_PORT"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings(_env_file=None)
    assert settings.redis_url is None
    assert settings.data_dir == Path("./data")
    assert settings.key_prefix == "ragis"
    assert load_up_settings(_env_file=None).redis_port == 6379
    assert settings.quantization is Quantization.Q8
    assert settings.session_ttl == 86400
    assert settings.llm_provider is LLMProviderName.AUTO


def test_environment_names_are_the_documented_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://example:6380/0")
    monkeypatch.setenv("RAGIS_DATA_DIR", "/srv/ragis")
    monkeypatch.setenv("RAGIS_KEY_PREFIX", "kb")
    monkeypatch.setenv("RAGIS_REDIS_PORT", "7000")
    monkeypatch.setenv("RAGIS_VECTOR_QUANT", "NOQUANT")
    settings = load_settings(_env_file=None)
    assert settings.redis_url == "redis://example:6380/0"
    assert settings.data_dir == Path("/srv/ragis")
    assert settings.key_prefix == "kb"
    assert load_up_settings(_env_file=None).redis_port == 7000
    assert settings.quantization is Quantization.NOQUANT


def test_dotenv_is_read_after_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("RAGIS_KEY_PREFIX=fromfile\nRAGIS_REDIS_PORT=7001\n")
    monkeypatch.delenv("RAGIS_KEY_PREFIX", raising=False)
    monkeypatch.setenv("RAGIS_REDIS_PORT", "7002")
    assert load_settings(_env_file=env_file).key_prefix == "fromfile"
    assert load_up_settings(_env_file=env_file).redis_port == 7002


def test_an_empty_redis_url_means_embedded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", "  ")
    assert load_settings(_env_file=None).redis_url is None


@pytest.mark.parametrize(
    ("name", "value", "needle"),
    [
        ("REDIS_URL", "http://localhost", "must start with redis://"),
        ("RAGIS_KEY_PREFIX", "bad prefix{", "should match pattern"),
        ("RAGIS_VECTOR_QUANT", "Q4", "Q8"),
        ("RAGIS_CACHE_THRESHOLD", "1.5", "less than or equal to 1"),
    ],
)
def test_a_bad_value_fails_with_a_readable_config_error(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, needle: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings(_env_file=None)
    # The message names the environment variable the user set, and what is wrong with it.
    assert name in caught.value.message
    assert needle in caught.value.message


UP_FIELDS = {
    "redis_port",
    "redis_password",
    "redis_start_timeout",
    "restart_limit",
    "restart_window",
}


@pytest.mark.parametrize(
    ("name", "value", "needle"),
    [
        ("RAGIS_REDIS_PORT", "70000", "less than or equal to 65535"),
        ("RAGIS_REDIS_PORT", "not-a-port", "valid integer"),
        ("RAGIS_REDIS_START_TIMEOUT", "0", "greater than 0"),
        ("RAGIS_RESTART_LIMIT", "0", "greater than or equal to 1"),
        ("RAGIS_RESTART_WINDOW", "86401", "less than or equal to 86400"),
    ],
)
def test_the_up_settings_refuse_a_bad_value_with_the_same_sentence(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, needle: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_up_settings(_env_file=None)
    assert caught.value.message.startswith(f"Invalid ragis settings — {name}: ")
    assert needle in caught.value.message


def test_the_rag_service_reads_none_of_what_only_ragis_up_reads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert set(UpSettings.model_fields) == UP_FIELDS
    assert not UP_FIELDS & set(RagSettings.model_fields)
    for name in ("RAGIS_REDIS_PORT", "RAGIS_REDIS_START_TIMEOUT", "RAGIS_RESTART_LIMIT"):
        monkeypatch.setenv(name, "-1")
    assert load_rag_settings(_env_file=None).top_k == 5


def test_each_service_has_its_own_settings_class_and_the_gateway_no_store_or_llm_field() -> None:
    shared = set(Settings.model_fields)
    assert {"redis_url", "key_prefix", "quantization", "llm_provider"} <= shared
    assert shared <= set(RagSettings.model_fields)
    # The gateway reads Redis (accounts) and the internal token, and nothing of the store.
    service = set(ServiceSettings.model_fields)
    assert {
        "redis_url",
        "redis_password_file",
        "key_prefix",
        "data_dir",
        "internal_token",
        "internal_token_file",
        # Observability (issue 19): both services log, count and trace alike.
        "log_format",
        "metrics",
        "metrics_token",
        "metrics_token_file",
        "otel_endpoint",
        "otel_service_name",
    } == service
    assert shared & set(GatewaySettings.model_fields) == service
    assert not shared & set(ClientSettings.model_fields)
    assert not set(UpSettings.model_fields) & (
        set(RagSettings.model_fields)
        | set(GatewaySettings.model_fields)
        | set(ClientSettings.model_fields)
    )
    for cls in (Settings, RagSettings, GatewaySettings, ClientSettings, UpSettings):
        assert issubclass(cls, SettingsBase)


def test_the_gateway_starts_whatever_the_store_and_llm_variables_say(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RAGIS_VECTOR_QUANT", "Q4")
    monkeypatch.setenv("RAGIS_LLM_PROVIDER", "nobody")
    assert load_gateway_settings(_env_file=None).gateway_port == 8080
    with pytest.raises(ConfigError, match=r"RAGIS_VECTOR_QUANT|quantization"):
        load_rag_settings(_env_file=None)


@pytest.mark.parametrize(
    ("load", "name"),
    [
        (load_settings, "RAGIS_VECTOR_M"),
        (load_rag_settings, "RAGIS_TOP_K"),
        (load_up_settings, "RAGIS_REDIS_PORT"),
        (load_gateway_settings, "RAGIS_GATEWAY_PORT"),
        (load_client_settings, "RAGIS_CLIENT_TIMEOUT"),
    ],
)
def test_every_service_loads_through_the_one_loader_and_its_sentence(
    monkeypatch: pytest.MonkeyPatch, load: Callable[..., SettingsBase], name: str
) -> None:
    monkeypatch.setenv(name, "-1")
    with pytest.raises(ConfigError) as caught:
        load(_env_file=None)
    assert caught.value.message.startswith("Invalid ragis settings — ")
    assert name in caught.value.message


def test_no_module_imports_a_private_name_of_another() -> None:
    private = []
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ragis"):
                private += [
                    f"{path.relative_to(SRC.parent)}: {node.module}.{alias.name}"
                    for alias in node.names
                    if alias.name.startswith("_") and not alias.name.startswith("__")
                ]
    assert private == []
