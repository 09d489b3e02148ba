"""Observability of the ragis services: Prometheus metrics, OpenTelemetry traces, and log lines
that carry the request they were written for.

    logs.py        configure_logging (text | json), the request id and its contextvar
    metrics.py     Metrics: one registry per app and its instruments
    tracing.py     setup_tracing (off without an endpoint), spans, W3C traceparent
    middleware.py  Observe: request id, metrics and a span for every request
    hooks.py       what the services report: a chat turn's events, an indexing, a Redis error
    outgoing.py    the headers the gateway adds to its requests to the RAG service
    state.py       observe(app, service, settings): the wiring of one app
"""

from ragis.obs.hooks import chat_event, indexed, redis_error
from ragis.obs.logs import REQUEST_ID_HEADER, configure_logging, request_id_var
from ragis.obs.metrics import Metrics
from ragis.obs.outgoing import outgoing_headers
from ragis.obs.state import Observability, install_tracing, observe
from ragis.obs.tracing import Tracing, setup_tracing, tracer

__all__ = [
    "REQUEST_ID_HEADER",
    "Metrics",
    "Observability",
    "Tracing",
    "chat_event",
    "configure_logging",
    "indexed",
    "install_tracing",
    "observe",
    "outgoing_headers",
    "redis_error",
    "request_id_var",
    "setup_tracing",
    "tracer",
]
