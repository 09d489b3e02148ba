from __future__ import annotations

from pathlib import Path

import pytest

from ragis.errors import ConfigError
from ragis.settings import LLMProviderName, Quantization, load_settings


def test_defaults_match_the_documented_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("REDIS_URL", "RAGIS_DATA_DIR", "RAGIS_KEY_PREFIX", "RAGIS_REDIS_PORT"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings(_env_file=None)
    assert settings.redis_url is None
    assert settings.data_dir == Path("./data")
    assert settings.key_prefix == "ragis"
    assert settings.redis_port == 6379
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
    assert settings.redis_port == 7000
    assert settings.quantization is Quantization.NOQUANT


def test_dotenv_is_read_after_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("RAGIS_KEY_PREFIX=fromfile\nRAGIS_REDIS_PORT=7001\n")
    monkeypatch.delenv("RAGIS_KEY_PREFIX", raising=False)
    monkeypatch.setenv("RAGIS_REDIS_PORT", "7002")
    settings = load_settings(_env_file=env_file)
    assert settings.key_prefix == "fromfile"
    assert settings.redis_port == 7002


def test_an_empty_redis_url_means_embedded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", "  ")
    assert load_settings(_env_file=None).redis_url is None


@pytest.mark.parametrize(
    ("name", "value", "needle"),
    [
        ("REDIS_URL", "http://localhost", "must start with redis://"),
        ("RAGIS_REDIS_PORT", "70000", "less than or equal to 65535"),
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
