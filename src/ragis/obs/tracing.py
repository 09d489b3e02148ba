"""OpenTelemetry traces: off unless an endpoint is configured, then one trace per request
across the gateway and the RAG service.

`setup_tracing(service, endpoint)` builds a `Tracing` (an SDK `TracerProvider` of its own — never
the process-wide global one, so a test runs a gateway and a RAG service in one process each
with its provider — exporting over OTLP/HTTP with a batch processor), or returns None when no
endpoint is set: then nothing here runs on a request but one contextvar read. A test or the
benchmark passes `exporter=` (the SDK's `InMemorySpanExporter`, exported synchronously) or a
whole `provider=` instead.

While a request is served (`ragis.obs.middleware`) the app's `Tracing` is in a contextvar:

- the middleware opens a SERVER span, continuing the caller's trace from its W3C
  `traceparent` header (`start_server_span`);
- `inject(headers)` adds the current `traceparent` to a request the gateway sends the RAG
  service (`ragis.obs.outgoing_headers`);
- `stage_spans(...)` records the stages of a chat turn or an indexing (embed, cache, search,
  llm, write) as child spans, after the fact, from the timings the services measure anyway:
  no tracing code runs inside ChatService or IndexService (`ragis.obs.hooks`).
- `current_ids()` gives the log lines their `trace_id`/`span_id`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, MutableMapping
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

__all__ = [
    "Tracing",
    "activate",
    "current_ids",
    "deactivate",
    "end_server_span",
    "inject",
    "setup_tracing",
    "stage_spans",
    "start_server_span",
    "tracer",
]

_tracing_var: ContextVar[Tracing | None] = ContextVar("ragis_tracing", default=None)
_PROPAGATOR = TraceContextTextMapPropagator()
_TRACES_PATH = "/v1/traces"


@dataclass(slots=True)
class Tracing:
    """One service's tracer provider and tracer."""

    service: str
    provider: TracerProvider
    tracer: trace.Tracer

    def shutdown(self) -> None:
        """Export what is left and stop the exporter (at the app's shutdown)."""
        self.provider.shutdown()


def setup_tracing(
    service: str,
    endpoint: str | None,
    *,
    exporter: SpanExporter | None = None,
    provider: TracerProvider | None = None,
) -> Tracing | None:
    """The service's tracing, or None (off) without an endpoint, exporter or provider.

    `endpoint`: the OTLP/HTTP base URL (`http://collector:4318`; `/v1/traces` is added unless
    given). `exporter`: spans go to it synchronously (tests). `provider`: used as it is."""
    if provider is None:
        if exporter is None and not endpoint:
            return None
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider as SdkProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

        provider = SdkProvider(resource=Resource.create({"service.name": service}))
        if exporter is not None:
            provider.add_span_processor(SimpleSpanProcessor(exporter))
        else:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            assert endpoint is not None
            url = endpoint.rstrip("/")
            if not url.endswith(_TRACES_PATH):
                url += _TRACES_PATH
            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=url)))
    return Tracing(service, provider, provider.get_tracer("ragis", schema_url=None))


def activate(tracing: Tracing | None) -> Token[Tracing | None]:
    """Make `tracing` the current request's (the middleware resets the token at the end)."""
    return _tracing_var.set(tracing)


def deactivate(token: Token[Tracing | None]) -> None:
    _tracing_var.reset(token)


def tracer() -> trace.Tracer | None:
    """The tracer of the app serving the current request; None when tracing is off."""
    current = _tracing_var.get()
    return current.tracer if current is not None else None


def start_server_span(
    tracing: Tracing, name: str, headers: Mapping[str, str], attributes: Mapping[str, Any]
) -> tuple[trace.Span, object]:
    """A SERVER span continuing the caller's `traceparent` (if any), made current; returns it
    and the token to `end_server_span` with."""
    parent = _PROPAGATOR.extract(headers)
    span = tracing.tracer.start_span(
        name, context=parent, kind=trace.SpanKind.SERVER, attributes=dict(attributes)
    )
    token = otel_context.attach(trace.set_span_in_context(span, parent))
    return span, token


def end_server_span(span: trace.Span, token: object) -> None:
    span.end()
    otel_context.detach(token)  # type: ignore[arg-type]


def inject(headers: MutableMapping[str, str]) -> None:
    """Add the current span's `traceparent` to `headers` (nothing when tracing is off)."""
    if _tracing_var.get() is not None:
        _PROPAGATOR.inject(headers)


def current_ids() -> tuple[str, str] | None:
    """The current (trace id, span id) in hex, while tracing is on and a span is open."""
    if _tracing_var.get() is None:
        return None
    ctx = trace.get_current_span().get_span_context()
    if not ctx.is_valid:
        return None
    return format(ctx.trace_id, "032x"), format(ctx.span_id, "016x")


def stage_spans(
    total_ms: float,
    stages: Iterable[tuple[str, float, float]],
    attributes: Mapping[str, Any] | None = None,
) -> None:
    """Child spans of the current span for the stages of a piece of work that took `total_ms`
    and ends now: each `(name, start_ms, duration_ms)` starts `start_ms` after the work did; a
    negative duration lasts until the end. Nothing happens when tracing is off."""
    current = _tracing_var.get()
    if current is None:
        return
    end = time.time_ns()
    began = end - int(total_ms * 1e6)
    for name, start_ms, duration_ms in stages:
        at = min(began + int(start_ms * 1e6), end)
        until = end if duration_ms < 0 else min(at + int(duration_ms * 1e6), end)
        span = current.tracer.start_span(name, start_time=at, attributes=dict(attributes or {}))
        span.end(end_time=until)
