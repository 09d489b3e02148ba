"""Secrets from files (Compose secrets): RAGIS_INTERNAL_TOKEN_FILE and RAGIS_REDIS_PASSWORD_FILE,
and the embedded Redis's RAGIS_REDIS_PASSWORD."""

from __future__ import annotations

from pathlib import Path

import pytest

from ragis.errors import ConfigError
from ragis.gateway.settings import GatewaySettings
from ragis.rag.settings import RagSettings
from ragis.settings import ServiceSettings, UpSettings

TOKEN = "t" * 40


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (
        "REDIS_URL",
        "RAGIS_INTERNAL_TOKEN",
        "RAGIS_INTERNAL_TOKEN_FILE",
        "RAGIS_REDIS_PASSWORD",
        "RAGIS_REDIS_PASSWORD_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no .env of the developer's


def secret(tmp_path: Path, text: str, name: str = "secret") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("settings", [ServiceSettings, RagSettings, GatewaySettings])
def test_the_internal_token_comes_from_a_file_without_its_line_break(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: type[ServiceSettings]
) -> None:
    monkeypatch.setenv("RAGIS_INTERNAL_TOKEN_FILE", str(secret(tmp_path, TOKEN + "\n")))
    token = settings.load().internal_token
    assert token is not None
    assert token.get_secret_value() == TOKEN


def test_a_token_given_both_ways_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAGIS_INTERNAL_TOKEN_FILE", str(secret(tmp_path, TOKEN)))
    monkeypatch.setenv("RAGIS_INTERNAL_TOKEN", "u" * 40)
    with pytest.raises(ConfigError, match="RAGIS_INTERNAL_TOKEN and RAGIS_INTERNAL_TOKEN_FILE"):
        ServiceSettings.load()


def test_a_short_empty_or_missing_token_file_is_a_sentence_naming_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cases = {
        str(secret(tmp_path, "short\n", "short")): "at least 32 characters",
        str(secret(tmp_path, "\n", "empty")): "is empty",
        str(tmp_path / "missing"): "cannot read",
    }
    for path, problem in cases.items():
        monkeypatch.setenv("RAGIS_INTERNAL_TOKEN_FILE", path)
        with pytest.raises(ConfigError) as caught:
            ServiceSettings.load()
        assert "RAGIS_INTERNAL_TOKEN_FILE" in caught.value.message
        assert problem in caught.value.message
        assert "short\n" not in caught.value.message


def test_a_blank_file_variable_is_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    # What `ragis up` passes its children: the token and the URL themselves, the files blank.
    monkeypatch.setenv("RAGIS_INTERNAL_TOKEN_FILE", "")
    monkeypatch.setenv("RAGIS_REDIS_PASSWORD_FILE", "")
    monkeypatch.setenv("RAGIS_INTERNAL_TOKEN", TOKEN)
    monkeypatch.setenv("REDIS_URL", "redis://:pw@127.0.0.1:6379")
    settings = ServiceSettings.load()
    assert settings.internal_token is not None
    assert settings.internal_token.get_secret_value() == TOKEN
    assert settings.redis_url == "redis://:pw@127.0.0.1:6379"


def test_the_redis_password_file_goes_into_the_url_quoted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAGIS_REDIS_PASSWORD_FILE", str(secret(tmp_path, "p@ss:w/rd #1\n")))
    monkeypatch.setenv("REDIS_URL", "redis://ragis@redis:6379/0")
    assert ServiceSettings.load().redis_url == "redis://ragis:p%40ss%3Aw%2Frd%20%231@redis:6379/0"
    monkeypatch.setenv("REDIS_URL", "rediss://redis.example:6380")
    assert ServiceSettings.load().redis_url == "rediss://:p%40ss%3Aw%2Frd%20%231@redis.example:6380"


def test_the_password_file_url_authenticates_to_a_real_redis(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import redis

    from ragis.db import EmbeddedRedis

    password = 'odd "pass" word @:/'
    with EmbeddedRedis(tmp_path / "data", port=0, password=password) as server:
        monkeypatch.setenv("RAGIS_REDIS_PASSWORD_FILE", str(secret(tmp_path, password + "\n")))
        monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{server.port}/0")
        url = ServiceSettings.load().redis_url
        assert url is not None
        with redis.Redis.from_url(url) as client:
            assert client.ping()


def test_a_password_in_the_url_and_in_a_file_or_a_file_without_url_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAGIS_REDIS_PASSWORD_FILE", str(secret(tmp_path, "pw")))
    with pytest.raises(ConfigError, match="needs a redis:// or rediss:// REDIS_URL"):
        ServiceSettings.load()
    monkeypatch.setenv("REDIS_URL", "redis://u:other@redis:6379")
    with pytest.raises(ConfigError, match="REDIS_URL has a password and RAGIS_REDIS_PASSWORD_FILE"):
        ServiceSettings.load()


def test_the_embedded_redis_password_is_a_secret_and_blank_is_unset(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert UpSettings.load().redis_password is None
    monkeypatch.setenv("RAGIS_REDIS_PASSWORD", " ")
    assert UpSettings.load().redis_password is None
    monkeypatch.setenv("RAGIS_REDIS_PASSWORD", "mine")
    settings = UpSettings.load()
    assert settings.redis_password is not None
    assert settings.redis_password.get_secret_value() == "mine"
    assert "mine" not in repr(settings)
