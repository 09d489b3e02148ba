"""`Observability`: one app's metrics and tracing, and `observe(app, ...)`, which wires them.

`observe(app, service, settings)` is the one call an app's `create_app` makes:

- the app's `Metrics` (None with RAGIS_METRICS off) on `app.state.metrics`, this object on
  `app.state.obs`, the log format on `app.state.log_format` (read by `ragis.web.run`);
- `GET /metrics` in the Prometheus text format, behind `guard` (a FastAPI dependency: the
  gateway's admits a scraper's RAGIS_METRICS_TOKEN or an admin; the RAG service's whole app is
  behind its internal token already), registered first so that no catch-all route hides it;
- the `Observe` middleware, outermost;
- the lifespan wrapped: tracing set up at start-up (RAGIS_OTEL_ENDPOINT; unless a test
  installed its own with `install_tracing`) and flushed at shutdown; the metrics are current for
  the lifespan's own tasks too (a Redis error of a background recovery counts).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.routing import APIRoute
from starlette.responses import Response

from ragis.obs import metrics as metrics_mod
from ragis.obs.metrics import CONTENT_TYPE, Metrics
from ragis.obs.tracing import Tracing, setup_tracing
from ragis.settings import ServiceSettings

__all__ = ["METRICS_PATH", "Observability", "install_tracing", "observe"]

METRICS_PATH = "/metrics"


@dataclass(slots=True)
class Observability:
    service: str
    metrics: Metrics | None
    endpoint: str | None = None
    service_name: str | None = None
    tracing: Tracing | None = None
    _own_tracing: bool = field(default=False)

    def start(self) -> None:
        if self.tracing is None and self.endpoint:
            self.tracing = setup_tracing(
                self.service_name or f"ragis-{self.service}", self.endpoint
            )
            self._own_tracing = True

    def stop(self) -> None:
        if self.tracing is not None and self._own_tracing:
            self.tracing.shutdown()
            self.tracing = None
            self._own_tracing = False


def observe(
    app: FastAPI,
    service: str,
    settings: ServiceSettings,
    *,
    guard: Callable[..., Any] | None = None,
) -> Observability:
    """Wire metrics, tracing and request ids into `app` (see the module's docstring)."""
    from ragis.obs.middleware import Observe

    obs = Observability(
        service,
        Metrics(service) if settings.metrics else None,
        endpoint=settings.otel_endpoint,
        service_name=settings.otel_service_name,
    )
    app.state.obs = obs
    app.state.metrics = obs.metrics
    app.state.log_format = settings.log_format
    if obs.metrics is not None:
        _add_metrics_route(app, obs.metrics, guard)
    app.add_middleware(Observe, obs=obs)
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[Any]:
        obs.start()
        token = metrics_mod.activate(obs.metrics)
        try:
            async with inner(app) as state:
                yield state
        finally:
            metrics_mod.deactivate(token)
            obs.stop()

    app.router.lifespan_context = lifespan
    return obs


def install_tracing(app: FastAPI, tracing: Tracing | None) -> None:
    """Give an app built by `create_app` this tracing (tests, the benchmark: an in-memory
    exporter); kept over RAGIS_OTEL_ENDPOINT, and not shut down with the app."""
    obs: Observability = app.state.obs
    obs.tracing = tracing
    obs._own_tracing = False


def _add_metrics_route(app: FastAPI, metrics: Metrics, guard: Callable[..., Any] | None) -> None:
    async def scrape() -> Response:
        return Response(metrics.exposition(), media_type=CONTENT_TYPE)

    app.add_api_route(
        METRICS_PATH,
        scrape,
        methods=["GET"],
        include_in_schema=False,
        dependencies=[Depends(guard)] if guard is not None else None,
    )
    # First: the gateway's web UI route catches every GET path registered before it.
    route = app.router.routes.pop()
    assert isinstance(route, APIRoute)
    app.router.routes.insert(0, route)
