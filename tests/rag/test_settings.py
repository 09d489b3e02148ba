"""The RAG service's embedding settings: names, defaults and the sentence a bad value gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from ragis.embedding import BACKENDS
from ragis.errors import ConfigError
from ragis.rag.settings import load_rag_settings


def test_the_embedding_defaults_pick_the_backend_and_cache_under_the_data_dir(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("RAGIS_EMBED_BACKEND", "RAGIS_MODEL_CACHE", "RAGIS_EMBED_THREADS"):
        monkeypatch.delenv(name, raising=False)
    settings = load_rag_settings(_env_file=None, data_dir="/srv/ragis")
    assert settings.embed_backend == "auto"
    assert settings.model_cache_dir == Path("/srv/ragis/models")
    assert settings.embed_threads == 0
    assert settings.search_ef == 300


def test_the_embedding_settings_read_their_documented_names(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("RAGIS_EMBED_BACKEND", "onnx-fp32")
    monkeypatch.setenv("RAGIS_MODEL_CACHE", str(tmp_path))
    monkeypatch.setenv("RAGIS_EMBED_THREADS", "1")
    settings = load_rag_settings(_env_file=None)
    assert settings.embed_backend == "onnx-fp32"
    assert settings.model_cache_dir == tmp_path
    assert settings.embed_threads == 1


def test_an_unknown_backend_is_one_sentence_with_the_valid_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RAGIS_EMBED_BACKEND", "gpu")
    with pytest.raises(ConfigError) as caught:
        load_rag_settings(_env_file=None)
    assert "RAGIS_EMBED_BACKEND" in caught.value.message
    for name in ("auto", *BACKENDS):
        assert name in caught.value.message
