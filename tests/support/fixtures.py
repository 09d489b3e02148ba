"""Shared service fixtures: the real model (loaded once), loopback LLMs, the RAG service on a port.

Registered for every test by `pytest_plugins` in tests/conftest.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import httpx
import pytest

from ragis.db import EmbeddedRedis
from ragis.embedding import Embedder, load_default_embedder
from ragis.rag.app import create_app
from ragis.rag.settings import RagSettings, load_rag_settings
from support.cluster import LocalCluster
from support.http import serve
from support.llm_servers import OllamaServer, OpenAIServer


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return load_default_embedder()


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """A real three-primary Redis Cluster; a test that stops a node restarts it."""
    with LocalCluster(tmp_path_factory.mktemp("cluster")) as cluster:
        yield cluster


@pytest.fixture(scope="session")
def openai_server() -> Iterator[OpenAIServer]:
    with OpenAIServer(models=["gpt-4o-mini"]) as server:
        yield server


@pytest.fixture(scope="session")
def ollama_server() -> Iterator[OllamaServer]:
    with OllamaServer() as server:
        yield server


@pytest.fixture
def llm(openai_server: OpenAIServer) -> Iterator[OpenAIServer]:
    openai_server.reset()
    yield openai_server
    openai_server.reset()


RagFactory = Callable[..., AbstractContextManager[str]]


@pytest.fixture
def rag_options(redis_server: EmbeddedRedis, prefix: str, llm: OpenAIServer) -> dict[str, Any]:
    return {
        "_env_file": None,
        "redis_url": redis_server.url,
        "key_prefix": prefix,
        "llm_provider": "openai",
        "openai_base_url": llm.base_url,
        "openai_api_key": "sk-test",
        "llm_max_retries": 0,
        "llm_timeout": 10,
    }


@pytest.fixture
def rag_settings(rag_options: dict[str, Any]) -> RagSettings:
    return load_rag_settings(**rag_options)


@pytest.fixture
def start_rag(rag_options: dict[str, Any], embedder: Embedder) -> RagFactory:
    """`with start_rag(**overrides) as url:` runs the service with these settings changed."""

    def factory(**overrides: Any) -> AbstractContextManager[str]:
        settings = load_rag_settings(**{**rag_options, **overrides})
        return serve(create_app(settings, embedder=embedder))

    return factory


@pytest.fixture
async def rag(start_rag: RagFactory) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the RAG service (OpenAI-compatible loopback LLM) on a real port."""
    with start_rag() as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            yield client
