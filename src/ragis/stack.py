"""`ragis up`: start every part of the stack, report where it listens, stop it all cleanly.

Parts start in order and stop in reverse order: Redis (the embedded Redis 8 when `REDIS_URL` is
unset, else a check that the external server has Vector Sets), then the RAG service and the
gateway (which serves the web UI) as child processes, each waited for until its health answers.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType

from ragis.db import EmbeddedRedis, connect
from ragis.db.client import redact
from ragis.db.embedded import free_port
from ragis.gateway.settings import GatewaySettings
from ragis.process import ServiceProcess, child_environment
from ragis.rag.settings import RagSettings

__all__ = ["Part", "Stack"]


@dataclass(slots=True)
class Part:
    name: str
    address: str
    detail: str = ""
    stop: Callable[[], None] = field(default=lambda: None)


class Stack:
    def __init__(
        self,
        settings: RagSettings,
        gateway: GatewaySettings,
        *,
        echo: Callable[[str], None] = print,
        start_timeout: float = 300.0,
    ) -> None:
        self.settings = settings
        self.gateway = gateway
        self.echo = echo
        self.start_timeout = start_timeout
        self.parts: list[Part] = []
        self.redis_url: str = ""
        self.rag_url: str = ""
        self.gateway_url: str = ""
        self.llm_line: str = ""

    def start(self) -> None:
        try:
            self._start_redis()
            self._start_rag()
            self._start_gateway()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        while self.parts:
            part = self.parts.pop()
            self.echo(f"stopping {part.name} ...")
            part.stop()
        self.echo("stopped.")

    def _start_redis(self) -> None:
        if self.settings.redis_url:
            self.redis_url = self.settings.redis_url
            version = asyncio.run(_check(self.redis_url))
            self.parts.append(Part("redis", redact(self.redis_url), f"external Redis {version}"))
            return
        server = EmbeddedRedis(
            self.settings.data_dir,
            self.settings.redis_port,
            start_timeout=self.settings.redis_start_timeout,
        )
        server.start()
        self.echo(f"redis ready at {server.url}")
        self.parts.append(Part("redis", server.url, "", server.stop))
        self.redis_url = server.url
        version = asyncio.run(_check(server.url))
        self.parts[-1].detail = f"embedded Redis {version}, data in {server.data_dir}"

    def _start_rag(self) -> None:
        port = self.settings.rag_port or free_port()
        service = ServiceProcess(
            "RAG service",
            "ragis.rag",
            port=port,
            env=child_environment({"REDIS_URL": self.redis_url, "RAGIS_RAG_PORT": str(port)}),
        )
        self.echo(
            "starting the RAG service (loading the embedding model; the first start on a "
            "machine also measures the embedding backends, about a minute) ..."
        )
        service.start()
        self.parts.append(Part("rag", service.url, "", service.stop))
        health = service.wait_healthy("/health", self.start_timeout)
        self.rag_url = service.url
        self.parts[-1].detail = str(health.get("embedder", {}).get("detail", ""))
        self.llm_line = _describe_llm(health)

    def _start_gateway(self) -> None:
        port = self.gateway.gateway_port or free_port()
        service = ServiceProcess(
            "gateway",
            "ragis.gateway",
            port=port,
            env=child_environment({"RAGIS_RAG_URL": self.rag_url, "RAGIS_GATEWAY_PORT": str(port)}),
        )
        service.start()
        self.parts.append(Part("gateway", service.url, "", service.stop))
        service.wait_healthy("/api/health", self.start_timeout)
        host = self.gateway.gateway_host
        self.gateway_url = (
            service.url if host in ("127.0.0.1", "0.0.0.0") else f"http://{host}:{port}"
        )
        ui = self.gateway.static_dir
        self.parts[-1].address = self.gateway_url
        self.parts[-1].detail = (
            f"web UI and API; UI from {ui}" if ui else "API only: the web UI is not built"
        )

    def describe(self) -> list[str]:
        width = max((len(p.name) for p in self.parts), default=0)
        lines = [
            f"  {p.name:<{width}}  {p.address}" + (f"   ({p.detail})" if p.detail else "")
            for p in self.parts
        ]
        if self.llm_line:
            lines.append(f"  {'LLM':<{width}}  {self.llm_line}")
        return lines


def _describe_llm(health: dict[str, object]) -> str:
    llm = health.get("llm")
    detail = str(llm.get("detail", "")) if isinstance(llm, dict) else ""
    if health.get("provider") == "none":
        return (
            "none: answers are the best passages (retrieval-only). For written answers "
            "set OPENAI_API_KEY (or OPENAI_BASE_URL), or run Ollama, then restart."
        )
    state = "" if isinstance(llm, dict) and llm.get("ok") else " (not answering yet!)"
    return f"{health.get('provider')} {health.get('model')}{state}: {detail}"


async def _check(url: str) -> str:
    from ragis.db.client import ensure_vector_sets

    client = await connect(url)
    try:
        return await ensure_vector_sets(client, url)
    finally:
        await client.aclose()


def wait_for_stop_signal() -> int:
    """Block until SIGINT or SIGTERM; returns the signal number."""
    received = threading.Event()
    caught: list[int] = []

    def handler(signum: int, frame: FrameType | None) -> None:
        caught.append(signum)
        received.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not received.wait(0.5):
            pass
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
    return caught[0]
