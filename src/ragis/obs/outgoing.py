"""What a request the gateway sends the RAG service carries of the request it serves: the
request id (`X-Request-Id`) and, with tracing on, the W3C `traceparent` of the current span, so
that the RAG service's log lines and spans join the gateway's."""

from __future__ import annotations

from ragis.obs import tracing
from ragis.obs.logs import REQUEST_ID_HEADER, request_id_var

__all__ = ["outgoing_headers"]


def outgoing_headers() -> dict[str, str]:
    """The headers to add to an internal request (none outside a request)."""
    headers: dict[str, str] = {}
    request_id = request_id_var.get()
    if request_id:
        headers[REQUEST_ID_HEADER] = request_id
    tracing.inject(headers)
    return headers
