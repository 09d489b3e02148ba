"""Log lines, as text or JSON, that carry the request they were written for.

`configure_logging(service, fmt)` sets up the root logger of a service process once
(`ragis.web.run`): `text` is the terminal line ragis always wrote, `json` one JSON object per
line for log shippers:

    {"time": "2026-12-04T15:40:01.123Z", "level": "INFO", "logger": "ragis.rag",
     "message": "...", "service": "rag", "request_id": "8f3c...", "trace_id": "...",
     "span_id": "...", "exc": "Traceback ..."}

(`trace_id`/`span_id` only while a span is open, `exc` only with an exception.)

The request id lives in the contextvar `request_id_var`: `ragis.obs.middleware` sets it from the
caller's `X-Request-Id` when that is a short run of safe characters (`clean_request_id`), else
from a new random id; every log line written while the request runs carries it, the answer
echoes it, and the gateway passes it on to the RAG service (`ragis.obs.outgoing_headers`).
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import sys
import time
from contextvars import ContextVar
from typing import Literal

from ragis.obs import tracing

__all__ = [
    "REQUEST_ID_HEADER",
    "JsonFormatter",
    "LogFormat",
    "RequestContext",
    "clean_request_id",
    "configure_logging",
    "new_request_id",
    "request_id_var",
    "service_var",
]

LogFormat = Literal["text", "json"]

REQUEST_ID_HEADER = "X-Request-Id"

#: The id of the request being served ("" outside a request).
request_id_var: ContextVar[str] = ContextVar("ragis_request_id", default="")
#: The service serving it ("" outside a request: the process's own name is used).
service_var: ContextVar[str] = ContextVar("ragis_service", default="")

# What a caller's id may be: what proxies and tracers send (uuids, hex, base64url, dotted ids),
# never a newline, a quote or a control character that could forge a log line or a header.
_SAFE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")

_TEXT_FORMAT = "%(asctime)s {service} %(levelname)s %(message)s"


def new_request_id() -> str:
    """A fresh request id: 32 hex characters (128 random bits)."""
    return secrets.token_hex(16)


def clean_request_id(given: str | bytes | None) -> str:
    """The caller's request id if it is 1-64 of `A-Z a-z 0-9 . _ : -`, else a new one."""
    if isinstance(given, bytes):
        given = given.decode("latin-1")
    if given and _SAFE_ID.fullmatch(given):
        return given
    return new_request_id()


class RequestContext(logging.Filter):
    """Puts `service`, `request_id` and, while a span is open, `trace_id`/`span_id` on every
    record (as attributes, so that a text format may use them too)."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = service_var.get() or self.service
        record.request_id = request_id_var.get()
        ids = tracing.current_ids()
        if ids is not None:
            record.trace_id, record.span_id = ids
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (newlines in a message are escaped by JSON)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": _utc(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "service": getattr(record, "service", None) or service_var.get() or None,
            "request_id": getattr(record, "request_id", None) or request_id_var.get() or None,
        }
        for key in ("trace_id", "span_id"):
            value = getattr(record, key, None)
            if value:
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(service: str, fmt: LogFormat = "text", *, level: int = logging.INFO) -> None:
    """The root logger of a service process: one stderr handler in `fmt`, with the request
    context on every record. Replaces the handlers set before (called again once the settings
    are read)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestContext(service))
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(_TEXT_FORMAT.format(service=service)))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)


def _utc(created: float) -> str:
    seconds = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created))
    return f"{seconds}.{int(created % 1 * 1000):03d}Z"
