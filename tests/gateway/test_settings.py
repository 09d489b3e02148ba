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


def test_parse_and_connection_limits_have_defaults_and_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = load_gateway_settings(_env_file=None)
    assert (settings.parse_workers, settings.parse_memory_mb) == (2, 1024)
    assert (settings.parse_cpu_seconds, settings.parse_timeout) == (60, 120)
    assert (settings.header_timeout, settings.body_timeout) == (10, 300)
    assert settings.max_connections == 256
    for name, value in {
        "RAGIS_PARSE_WORKERS": "4", "RAGIS_PARSE_MEMORY_MB": "512",
        "RAGIS_PARSE_CPU_SECONDS": "5", "RAGIS_PARSE_TIMEOUT": "7.5",
        "RAGIS_HEADER_TIMEOUT": "2", "RAGIS_BODY_TIMEOUT": "30", "RAGIS_MAX_CONNECTIONS": "64",
    }.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    settings = load_gateway_settings(_env_file=None)
    assert (settings.parse_workers, settings.parse_memory_mb) == (4, 512)
    assert (settings.parse_cpu_seconds, settings.parse_timeout) == (5, 7.5)
    assert (settings.header_timeout, settings.body_timeout) == (2, 30)
    assert settings.max_connections == 64


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("RAGIS_PARSE_WORKERS", "0"),
        ("RAGIS_PARSE_MEMORY_MB", "100"),  # below what a child needs to start
        ("RAGIS_PARSE_MEMORY_MB", "1e9"),
        ("RAGIS_PARSE_CPU_SECONDS", "-1"),
        ("RAGIS_PARSE_TIMEOUT", "0"),
        ("RAGIS_PARSE_TIMEOUT", "nan"),
        ("RAGIS_HEADER_TIMEOUT", "inf"),
        ("RAGIS_BODY_TIMEOUT", "-5"),
        ("RAGIS_MAX_CONNECTIONS", "many"),
        ("RAGIS_MAX_CONNECTIONS", "0"),
    ],
)
def test_a_bad_parse_or_connection_limit_is_refused_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=name):
        load_gateway_settings(_env_file=None)
