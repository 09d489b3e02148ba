"""Real services on loopback for the benchmark: an ASGI app under uvicorn in a thread, and the
whole ragis stack (embedded Redis 8, RAG service, gateway) in one context manager.

The gateway runs as its own process (`python -m ragis.gateway`), as `ragis up` and compose run
it: in a thread of the benchmark it would share one interpreter lock with the RAG service and
the client, and its measured share would include waiting for them. The RAG service stays in
this process, because the ingestion section times its embedder and its writes from inside.
As under `ragis up`, the two share a fresh internal token and the Redis carries a password.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ragis.db import EmbeddedRedis
from ragis.embedding import Embedder
from ragis.net import free_port
from ragis.process import ServiceProcess
from ragis.web.run import serve_in_thread

__all__ = ["Stack", "gateway_process", "start_stack"]


@dataclass(frozen=True, slots=True)
class Stack:
    redis_url: str
    rag_url: str
    gateway_url: str
    key_prefix: str
    internal_token: str


@contextlib.contextmanager
def gateway_process(
    *, rag_url: str, redis_url: str, key_prefix: str, internal_token: str, **env: str
) -> Iterator[str]:
    """A gateway process in front of `rag_url` (no web UI, auth as `env` says: by default off,
    as on loopback); yields its URL."""
    port = free_port()
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("RAGIS_", "REDIS_"))}
    gateway = ServiceProcess(
        "gateway",
        "ragis.gateway",
        port=port,
        env={
            **inherited, "RAGIS_RAG_URL": rag_url, "RAGIS_GATEWAY_PORT": str(port),
            "REDIS_URL": redis_url, "RAGIS_KEY_PREFIX": key_prefix,
            "RAGIS_INTERNAL_TOKEN": internal_token,
            "RAGIS_STATIC_DIR": "", "RAGIS_MAX_UPLOAD_MB": "200", "PYTHONUNBUFFERED": "1",
            **env,
        },
    )  # fmt: skip
    gateway.start()
    try:
        gateway.wait_healthy("/api/health", 60)
        yield gateway.url
    finally:
        gateway.stop()


@contextlib.contextmanager
def start_stack(
    data_dir: Path,
    embedder: Embedder,
    *,
    llm_base_url: str | None,
    key_prefix: str = "bench",
    **rag_overrides: Any,
) -> Iterator[Stack]:
    """Redis 8 in `data_dir`, the RAG service with `embedder`, and the gateway in front of it."""
    from ragis.rag.app import create_app as create_rag
    from ragis.rag.settings import load_rag_settings

    llm: dict[str, Any] = (
        {"llm_provider": "openai", "openai_base_url": llm_base_url, "openai_api_key": "sk-bench"}
        if llm_base_url
        else {"llm_provider": "none"}
    )
    token = secrets.token_urlsafe(32)
    with EmbeddedRedis(data_dir / "redis", port=0) as redis:
        rag_settings = load_rag_settings(
            _env_file=None, redis_url=redis.url, key_prefix=key_prefix, llm_max_retries=0,
            internal_token=token, **llm, **rag_overrides,
        )  # fmt: skip
        rag = create_rag(rag_settings, embedder=embedder)
        with (
            serve_in_thread(rag, startup_timeout=180) as rag_url,
            gateway_process(
                rag_url=rag_url, redis_url=redis.url, key_prefix=key_prefix, internal_token=token
            ) as gateway_url,
        ):
            yield Stack(redis.url, rag_url, gateway_url, key_prefix, token)
