"""Shared service fixtures: the real model (loaded once), loopback LLMs, the RAG service on a port.

Registered for every test by `pytest_plugins` in tests/conftest.py.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import httpx
import pytest

from ragis.contract import DEFAULT_WORKSPACE, LOCAL_USER, Caller
from ragis.db import EmbeddedRedis
from ragis.embedding import Embedder, load_default_embedder
from ragis.embedding.cpu import CpuInfo, detect_cpu
from ragis.embedding.select import (
    CHOICE_FILE,
    CalibrationPlan,
    available_backends,
    load_backend,
    select_embedder,
)
from ragis.rag.app import create_app
from ragis.rag.settings import RagSettings, load_rag_settings
from ragis.web.run import serve_in_thread as serve
from support.cluster import LocalCluster
from support.cpus import CPU_KINDS, cpu_kind
from support.llm_servers import OllamaServer, OpenAIServer


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return load_default_embedder()


@pytest.fixture(scope="session")
def cpu() -> CpuInfo:
    return detect_cpu()


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One model cache per test session, so each ONNX file is exported once."""
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def backends(cpu: CpuInfo, model_cache: Path, embedder: Embedder) -> dict[str, Embedder]:
    """Every backend of every CPU kind that can run on this machine, loaded once: named
    `torch-fp32`, `torch-bf16`, `onnx-fp32` and `onnx-int8/<recipe>`. A backend this CPU does
    not offer natively still runs (torch emulates bf16; an int8 model of another recipe runs on
    any kernels), so an AVX2 machine catches what a bf16 or Arm machine would hit."""
    loaded: dict[str, Embedder] = {"torch-fp32": embedder}
    for kind in (cpu, *(cpu_kind(k) for k in CPU_KINDS)):
        for name, why_not in available_backends(kind).items():
            key = f"{name}/{kind.int8_target}" if name == "onnx-int8" else name
            if why_not is None and key not in loaded:
                loaded[key] = load_backend(name, model_cache, 32, None, kind)[0]
    return loaded


@pytest.fixture(scope="session")
def service_model_cache(
    tmp_path_factory: pytest.TempPathFactory, model_cache: Path, backends: dict[str, Embedder]
) -> Path:
    """A model cache whose backend choice is already made, for the services tests start as
    processes (RAGIS_MODEL_CACHE): they load the chosen backend at once, as on a second start,
    instead of each measuring the backends for half a minute. The choice comes from a short
    real calibration; the exports are the session's (copied, not rebuilt)."""
    cache = tmp_path_factory.mktemp("service-models")
    # `backends` has exported every ONNX file into model_cache; a choice made there by the
    # selection tests is left behind, so this cache gets its own.
    shutil.copytree(
        model_cache, cache, dirs_exist_ok=True, ignore=shutil.ignore_patterns(CHOICE_FILE, ".*")
    )
    plan = CalibrationPlan(chunks=8, batch=4, rounds=2, warmup=1)
    selection = select_embedder("auto", cache_dir=cache, plan=plan)
    assert selection.calibrated
    assert not selection.exported
    asyncio.run(selection.embedder.aclose())
    return cache


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

#: The internal token of the test services (the gateway proves itself with it to the RAG service).
INTERNAL_TOKEN = "test-internal-token-" + "x" * 32
#: What the gateway sends the RAG service with every request: the token, and (for data routes)
#: the workspace and user, here the local user in `default`.
RAG_HEADERS = {
    "Authorization": f"Bearer {INTERNAL_TOKEN}",
    **Caller(DEFAULT_WORKSPACE, LOCAL_USER).headers(),
}


def rag_client(url: str, *, timeout: float = 30, **headers: str) -> httpx.AsyncClient:
    """A client of the RAG service at `url` that speaks as the gateway (`RAG_HEADERS`, with
    `headers` over them: `rag_client(url, **Caller("a", "bob").headers())`)."""
    return httpx.AsyncClient(base_url=url, timeout=timeout, headers={**RAG_HEADERS, **headers})


@pytest.fixture
def internal_token() -> str:
    return INTERNAL_TOKEN


@pytest.fixture
def rag_options(redis_server: EmbeddedRedis, prefix: str, llm: OpenAIServer) -> dict[str, Any]:
    return {
        "_env_file": None,
        "redis_url": redis_server.url,
        "key_prefix": prefix,
        "internal_token": INTERNAL_TOKEN,
        "llm_provider": "openai",
        "openai_base_url": llm.base_url,
        "openai_api_key": "sk-test",
        "llm_max_retries": 0,
        "llm_timeout": 10,
        # Most tests ask toy questions of toy documents to test something else; the grounded
        # gate (which refuses a question whose best passage is not close enough) is tested on
        # its own, with a threshold each of those tests sets (tests/rag/test_chat_retrieval.py).
        "min_score": 0.0,
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
        async with rag_client(url) as client:
            yield client
