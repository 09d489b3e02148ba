from __future__ import annotations

from pathlib import Path

import pytest

from ragis.errors import ConfigError
from ragis.gateway.settings import load_gateway_settings


def test_defaults_listen_on_8080_and_find_the_rag_service_on_8001() -> None:
    settings = load_gateway_settings(_env_file=None)
    assert (settings.gateway_host, settings.gateway_port) == ("127.0.0.1", 8080)
    assert settings.rag_urls == ["http://127.0.0.1:8001"]
    assert settings.max_upload_mb == 50
    assert settings.max_upload_bytes == 50 * 1024 * 1024
    assert settings.max_files_per_upload == 20
    assert (settings.chunk_tokens, settings.chunk_overlap) == (240, 40)
    assert settings.sse_heartbeat == 10


def test_rag_url_takes_one_url_or_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAGIS_RAG_URL", "http://10.0.0.5:8001/")
    assert load_gateway_settings(_env_file=None).rag_urls == ["http://10.0.0.5:8001"]
    monkeypatch.setenv("RAGIS_RAG_URL", " http://a:8001, http://b:8001 ,")
    assert load_gateway_settings(_env_file=None).rag_urls == ["http://a:8001", "http://b:8001"]


def test_a_rag_url_that_is_not_http_is_refused_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RAGIS_RAG_URL", "127.0.0.1:8001")
    with pytest.raises(
        ConfigError, match=r"RAGIS_RAG_URL: '127\.0\.0\.1:8001' must start with http"
    ):
        load_gateway_settings(_env_file=None)


def test_an_overlap_over_half_the_chunk_is_refused() -> None:
    with pytest.raises(ConfigError, match="RAGIS_CHUNK_OVERLAP"):
        load_gateway_settings(_env_file=None, chunk_tokens=100, chunk_overlap=60)


def test_the_environment_sets_limits_and_the_heartbeat(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAGIS_MAX_UPLOAD_MB", "5")
    monkeypatch.setenv("RAGIS_MAX_FILES_PER_UPLOAD", "3")
    monkeypatch.setenv("RAGIS_SSE_HEARTBEAT", "0.5")
    monkeypatch.setenv("RAGIS_GATEWAY_PORT", "9090")
    settings = load_gateway_settings(_env_file=None)
    assert (settings.max_upload_mb, settings.max_files_per_upload) == (5, 3)
    assert (settings.sse_heartbeat, settings.gateway_port) == (0.5, 9090)


def test_static_dir_from_the_environment_and_blank_means_none(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("RAGIS_STATIC_DIR", str(tmp_path))
    assert load_gateway_settings(_env_file=None).static_dir == tmp_path
    monkeypatch.setenv("RAGIS_STATIC_DIR", " ")
    assert load_gateway_settings(_env_file=None).static_dir is None
