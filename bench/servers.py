"""Real services on loopback for the benchmark: an ASGI app under uvicorn in a thread, and the
whole ragis stack (embedded Redis 8, RAG service, gateway) in one context manager.

The gateway runs as its own process (`python -m ragis.gateway`), as `ragis up` and compose run
it: in a thread of the benchmark it would share one interpreter lock with the RAG service and
the client, and its measured share would include waiting for them. The RAG service stays in
this process, because the ingestion section times its embedder and its writes from inside.
`serve` is a copy of the tests' helper, so that bench/ does not depend on tests/.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

from ragis.db import EmbeddedRedis
from ragis.db.embedded import free_port
from ragis.embedding import Embedder
from ragis.process import ServiceProcess

__all__ = ["Stack", "serve", "start_stack"]


@contextlib.contextmanager
def serve(app: Any, *, startup_timeout: float = 180.0) -> Iterator[str]:
    """Run `app` on 127.0.0.1:<free port> until the block ends; yields the base URL."""
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="on",
        timeout_graceful_shutdown=2,
    )  # fmt: skip
    server = uvicorn.Server(config)
    failure: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(server.serve())
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=run, name=f"bench-uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if failure or not thread.is_alive():
            raise RuntimeError(f"the app did not start: {failure[0] if failure else 'exited'}")
        if time.monotonic() > deadline:
            raise TimeoutError("the app did not start in time")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@dataclass(frozen=True, slots=True)
class Stack:
    redis_url: str
    rag_url: str
    gateway_url: str
    key_prefix: str


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
    with EmbeddedRedis(data_dir / "redis", port=0) as redis:
        rag_settings = load_rag_settings(
            _env_file=None, redis_url=redis.url, key_prefix=key_prefix, llm_max_retries=0,
            **llm, **rag_overrides,
        )  # fmt: skip
        with serve(create_rag(rag_settings, embedder=embedder)) as rag_url:
            port = free_port()
            env = {k: v for k, v in os.environ.items() if not k.startswith(("RAGIS_", "REDIS_"))}
            gateway = ServiceProcess(
                "gateway",
                "ragis.gateway",
                port=port,
                env={
                    **env, "RAGIS_RAG_URL": rag_url, "RAGIS_GATEWAY_PORT": str(port),
                    "RAGIS_STATIC_DIR": "", "RAGIS_MAX_UPLOAD_MB": "200",
                    "PYTHONUNBUFFERED": "1",
                },
            )  # fmt: skip
            gateway.start()
            try:
                gateway.wait_healthy("/api/health", 60)
                yield Stack(redis.url, rag_url, gateway.url, key_prefix)
            finally:
                gateway.stop()
