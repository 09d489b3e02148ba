"""Gateway fixtures: the real RAG service and the gateway in front of it, each on a real port.

Registered for every test by `pytest_plugins` in tests/conftest.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import httpx
import pytest

from ragis.db import EmbeddedRedis
from ragis.gateway.app import create_app
from ragis.gateway.settings import load_gateway_settings
from ragis.web.run import serve_in_thread as serve

GatewayFactory = Callable[..., AbstractContextManager[str]]


@pytest.fixture
def gateway_options(
    redis_server: EmbeddedRedis, prefix: str, internal_token: str
) -> dict[str, Any]:
    """Settings of a test gateway (the test's Redis and key prefix, for accounts); no web UI
    unless a test gives `static_dir`."""
    return {
        "_env_file": None,
        "static_dir": None,
        "redis_url": redis_server.url,
        "key_prefix": prefix,
        "internal_token": internal_token,
    }


@pytest.fixture
def start_gateway(gateway_options: dict[str, Any]) -> GatewayFactory:
    """`with start_gateway(rag_urls=[url], **overrides) as base_url:` runs a gateway."""

    def factory(**overrides: Any) -> AbstractContextManager[str]:
        settings = load_gateway_settings(**{**gateway_options, **overrides})
        return serve(create_app(settings))

    return factory


@pytest.fixture
def rag_url(start_rag: Callable[..., AbstractContextManager[str]]) -> Iterator[str]:
    """The base URL of a real RAG service (real Redis, real model, loopback LLM)."""
    with start_rag() as url:
        yield url


@pytest.fixture
async def gateway(rag_url: str, start_gateway: GatewayFactory) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a gateway in front of `rag_url`."""
    with start_gateway(rag_urls=[rag_url]) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            yield client
