"""`ragis up`: start every part of the stack, report where it listens, stop it all cleanly.

Parts start in order and stop in reverse order: Redis (the embedded Redis 8 when `REDIS_URL` is
unset, else a check that the external server has Vector Sets), then the RAG service and the
gateway (which serves the web UI) as child processes, each waited for until its health answers.
Each phase prints a line, so what has started is visible (and testable). A stop signal at any
phase (see ragis.signals) stops what has started; once up, `supervise()` restarts a child that
exits (see ragis.supervise).

Secrets between the parts: the embedded Redis requires a password (its URL carries it), and the
RAG service answers only requests that carry the internal token (`RAGIS_INTERNAL_TOKEN`, else a
new one made at each start). Both children get both through their environment; neither is ever
printed: addresses go through `redact()`.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from ragis.db import EmbeddedRedis, connect
from ragis.db.client import redact
from ragis.gateway.settings import GatewaySettings
from ragis.net import free_port
from ragis.process import ServiceProcess, child_environment
from ragis.rag.settings import RagSettings
from ragis.settings import UpSettings
from ragis.signals import StopSignals
from ragis.supervise import Supervised, Supervisor

__all__ = ["Part", "Stack"]

RAG_HEALTH = "/health"
GATEWAY_HEALTH = "/api/health"


@dataclass(slots=True)
class Part:
    name: str
    address: str
    detail: str = ""
    stop: Callable[[], None] = field(default=lambda: None)
    # A child process of ours that the supervisor restarts if it exits; None: not ours to watch.
    supervised: Supervised | None = None


class Stack:
    def __init__(
        self,
        settings: RagSettings,
        gateway: GatewaySettings,
        up: UpSettings,
        *,
        echo: Callable[[str], None] = print,
        start_timeout: float = 300.0,
        signals: StopSignals | None = None,
    ) -> None:
        self.settings = settings
        self.gateway = gateway
        self.up = up
        self.echo = echo
        self.start_timeout = start_timeout
        # Not installed by default (then never requested): the caller decides about handlers.
        self.signals = signals or StopSignals()
        self.parts: list[Part] = []
        self.redis_url: str = ""
        self.rag_url: str = ""
        self.gateway_url: str = ""
        self.llm_line: str = ""
        # Fixed for the life of this `ragis up`: a restarted child must still match the other.
        token = settings.internal_token
        self.internal_token = token.get_secret_value() if token else secrets.token_urlsafe(32)

    def start(self) -> None:
        """Start every part; on any failure or stop signal, stop what has started and raise."""
        # Everything the stack writes is the user's own: the embedded Redis's files, and the model
        # cache the RAG service fills on its first start (the children inherit the umask).
        os.umask(os.umask(0o077) | 0o077)
        try:
            for phase in (self._start_redis, self._start_rag, self._start_gateway):
                self.signals.check()
                phase()
            self.signals.check()
        except BaseException:
            self.stop()
            raise

    def supervise(self) -> None:
        """Restart a child that exits, until a stop signal (`StopRequested`) or `ServiceCrashed`."""
        Supervisor(
            [p.supervised for p in self.parts if p.supervised is not None],
            self.signals,
            echo=self.echo,
            limit=self.up.restart_limit,
            window=self.up.restart_window,
        ).run()

    def stop(self) -> None:
        if self.signals.requested:
            self.echo(f"{self.signals.name} received.")
        while self.parts:
            part = self.parts.pop()
            self.echo(f"stopping {part.name} ...")
            part.stop()
        self.echo("stopped.")

    def _start_redis(self) -> None:
        if self.settings.redis_url:
            # The settings put RAGIS_REDIS_PASSWORD_FILE's password into it already.
            self.redis_url = self.settings.redis_url
            version = asyncio.run(_check(self.redis_url))
            self.parts.append(Part("redis", redact(self.redis_url), f"external Redis {version}"))
            return
        password = self.up.redis_password
        server = EmbeddedRedis(
            self.settings.data_dir,
            self.up.redis_port,
            start_timeout=self.up.redis_start_timeout,
            password=password.get_secret_value() if password else None,
            interrupt=self.signals.check,
            die_with_parent=True,
        )
        self.echo(f"starting the embedded Redis 8 (data in {server.data_dir}) ...")
        server.start()
        # Recorded before anything else can fail, so that a stop always includes it.
        restart = Supervised(
            "embedded Redis", server.exit_code, lambda: self._restart_redis(server)
        )
        self.parts.append(Part("redis", redact(server.url), "", server.stop, restart))
        self.echo(f"redis ready at {redact(server.url)}")
        self.redis_url = server.url
        version = asyncio.run(_check(server.url))
        self.parts[-1].detail = f"embedded Redis {version}, data in {server.data_dir}"

    def _start_rag(self) -> None:
        port = self.settings.rag_port or free_port()
        service = ServiceProcess(
            "RAG service",
            "ragis.rag",
            port=port,
            env=child_environment({**self._secrets(), "RAGIS_RAG_PORT": str(port)}),
            token=self.internal_token,
            die_with_parent=True,
        )
        service.start()
        restart = Supervised(
            "RAG service", service.exit_code, lambda: self._restart(service, RAG_HEALTH)
        )
        self.parts.append(Part("rag", service.url, "", service.stop, restart))
        self.echo(
            "starting the RAG service (loading the embedding model; the first start on a "
            "machine also measures the embedding backends, about a minute) ..."
        )
        health = service.wait_healthy(RAG_HEALTH, self.start_timeout, self.signals.check)
        self.echo(f"rag ready at {service.url}")
        self.rag_url = service.url
        self.parts[-1].detail = str(health.get("embedder", {}).get("detail", ""))
        self.llm_line = _describe_llm(health)

    def _start_gateway(self) -> None:
        port = self.gateway.gateway_port or free_port()
        service = ServiceProcess(
            "gateway",
            "ragis.gateway",
            port=port,
            env=child_environment(
                {**self._secrets(), "RAGIS_RAG_URL": self.rag_url, "RAGIS_GATEWAY_PORT": str(port)}
            ),
            die_with_parent=True,
        )
        service.start()
        restart = Supervised(
            "gateway", service.exit_code, lambda: self._restart(service, GATEWAY_HEALTH)
        )
        self.parts.append(Part("gateway", service.url, "", service.stop, restart))
        self.echo("starting the gateway ...")
        service.wait_healthy(GATEWAY_HEALTH, self.start_timeout, self.signals.check)
        self.echo(f"gateway ready at {service.url}")
        host = self.gateway.gateway_host
        self.gateway_url = (
            service.url if host in ("127.0.0.1", "0.0.0.0") else f"http://{host}:{port}"
        )
        ui = self.gateway.static_dir
        self.parts[-1].address = self.gateway_url
        self.parts[-1].detail = (
            f"web UI and API; UI from {ui}" if ui else "API only: the web UI is not built"
        )

    def _secrets(self) -> dict[str, str]:
        """What both children need to reach Redis and each other. The URL carries the password
        and the token is given as such, so the *_FILE variables of ours would only conflict."""
        return {
            "REDIS_URL": self.redis_url,
            "RAGIS_REDIS_PASSWORD_FILE": "",
            "RAGIS_INTERNAL_TOKEN": self.internal_token,
            "RAGIS_INTERNAL_TOKEN_FILE": "",
        }

    def _restart(self, service: ServiceProcess, health: str) -> str:
        service.stop()  # reaps a dead child; stops one that hung at start
        service.start()
        service.wait_healthy(health, self.start_timeout, self.signals.check)
        return service.url

    def _restart_redis(self, server: EmbeddedRedis) -> str:
        server.stop()  # reaps it and releases the data dir's lock
        # The same port: the RAG service was told this address.
        server.requested_port = server.port
        server.start()
        return redact(server.url)

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
