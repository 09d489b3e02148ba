"""`Observe`: the ASGI middleware in front of every request of a ragis service.

For each HTTP request it

1. takes the caller's `X-Request-Id` if it is short and safe (`clean_request_id`), else makes
   one, puts it in `request_id_var` for the log lines, and echoes it in the answer;
2. makes the app's metrics and tracing the request's (contextvars read by `ragis.obs.hooks`);
3. with tracing on, opens a SERVER span continuing the caller's `traceparent`;
4. at the end of the answer (a stream's last byte), counts it by route template, method and
   status, and observes its duration; an answer streaming SSE or NDJSON is counted in
   `ragis_active_streams` while it streams; the logger `ragis.access` writes one line for it
   at DEBUG (off by default).

Outermost of the app's middleware, so that a refusal (401 of the internal token, 403 of the
origin check, 413 of the body limit) is counted and carries the request id too.
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ragis.obs import metrics as metrics_mod
from ragis.obs import tracing as tracing_mod
from ragis.obs.logs import clean_request_id, request_id_var, service_var
from ragis.obs.state import Observability

__all__ = ["Observe", "route_of"]

_HEADER = b"x-request-id"
_STREAMS = (b"text/event-stream", b"application/x-ndjson")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "<unmatched>"

# One line per request at DEBUG (off by default: a write to stderr on every request).
access_log = logging.getLogger("ragis.access")


def route_of(scope: Scope) -> str:
    """The template of the route that served the request (`/collections/{name}`), or
    `<unmatched>`: never the raw path, whose values are the caller's to choose."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED


class Observe:
    def __init__(self, app: ASGIApp, *, obs: Observability) -> None:
        self._app = app
        self._obs = obs

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        obs = self._obs
        given = None
        for name, value in scope["headers"]:
            if name == _HEADER:
                given = value
                break
        request_id = clean_request_id(given)
        raw_id = request_id.encode("ascii")
        method = scope["method"] if scope["method"] in _METHODS else "OTHER"
        id_token = request_id_var.set(request_id)
        service_token = service_var.set(obs.service)
        metrics_token = metrics_mod.activate(obs.metrics)
        tracing_token = tracing_mod.activate(obs.tracing)
        span = None
        if obs.tracing is not None:
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
            span, span_token = tracing_mod.start_server_span(
                obs.tracing, method, headers,
                {"ragis.request_id": request_id, "http.request.method": method},
            )  # fmt: skip
        metrics = obs.metrics
        status = 500
        streaming = False
        started = time.perf_counter()

        async def send_observed(message: Message) -> None:
            nonlocal status, streaming
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", ()) if k.lower() != _HEADER]
                headers.append((_HEADER, raw_id))
                message["headers"] = headers
                if metrics is not None and _streams(headers):
                    streaming = True
                    metrics.active_streams.inc()
            await send(message)

        try:
            await self._app(scope, receive, send_observed)
        finally:
            route = route_of(scope)
            elapsed = time.perf_counter() - started
            if access_log.isEnabledFor(logging.DEBUG):
                access_log.debug("%s %s %d %.1f ms", method, route, status, elapsed * 1000)
            if metrics is not None:
                if streaming:
                    metrics.active_streams.dec()
                metrics.requests.labels(route, method, str(status)).inc()
                metrics.request_seconds.labels(route, method).observe(time.perf_counter() - started)
            if span is not None:
                span.update_name(f"{method} {route}")
                span.set_attribute("http.route", route)
                span.set_attribute("http.response.status_code", status)
                tracing_mod.end_server_span(span, span_token)
            tracing_mod.deactivate(tracing_token)
            metrics_mod.deactivate(metrics_token)
            service_var.reset(service_token)
            request_id_var.reset(id_token)


def _streams(headers: list[tuple[bytes, bytes]]) -> bool:
    for name, value in headers:
        if name.lower() == b"content-type":
            return value.startswith(_STREAMS)
    return False
