"""Turning errors into HTTP answers, at the edge only: `{"error": {"code", "message"}}`.

Typed ragis errors keep their sentence; anything unexpected becomes a 500 with a generic sentence
(the traceback goes to the log, never to the client). Validation errors name the field.
"""

from __future__ import annotations

import logging
import re

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from ragis.errors import (
    Conflict,
    EmbeddingUnavailable,
    FileTooLarge,
    Forbidden,
    IndexInterrupted,
    InvalidInput,
    LLMError,
    ModelUnavailable,
    NotFound,
    RagisError,
    RedisUnavailable,
    SessionMismatch,
    TooLarge,
    TooManyAttempts,
    Unauthenticated,
    UnsupportedFile,
    UpstreamError,
    UrlTimeout,
    UrlUnreachable,
)

__all__ = [
    "allowed_methods",
    "error_body",
    "headers_for",
    "install_error_handlers",
    "status_for",
]

log = logging.getLogger("ragis.http")

# What FastAPI raises (a 400) when a body cannot be decoded at all, e.g. bytes that are not UTF-8.
FASTAPI_BODY_ERROR = "There was an error parsing the body"
HTTP_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


def status_for(exc: RagisError) -> int:
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, Unauthenticated):
        return 401
    if isinstance(exc, Forbidden):
        return 403
    if isinstance(exc, TooManyAttempts):
        return 429
    if isinstance(exc, Conflict | ModelUnavailable):
        return 409
    if isinstance(exc, FileTooLarge | TooLarge):
        return 413
    if isinstance(exc, UnsupportedFile):
        return 415
    if isinstance(exc, SessionMismatch):
        return 409
    if isinstance(exc, InvalidInput):
        return 422
    if isinstance(exc, UrlTimeout):
        return 504
    if isinstance(exc, UrlUnreachable):
        return 502
    if isinstance(
        exc, RedisUnavailable | LLMError | UpstreamError | IndexInterrupted | EmbeddingUnavailable
    ):
        return 503
    return 500


def allowed_methods(request: Request, starlette_allow: str = "") -> list[str]:
    """Every method the app takes at this path: Starlette's own `Allow` names only the methods
    of the first route that matched the path, so the OpenAPI schema's operations of every
    route whose path template matches are added to it."""
    methods = {m.strip().upper() for m in starlette_allow.split(",") if m.strip()}
    templates: list[tuple[re.Pattern[str], set[str]]] | None = getattr(
        request.app.state, "ragis_path_methods", None
    )
    if templates is None:
        templates = []
        for template, operations in request.app.openapi().get("paths", {}).items():
            regex = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
            templates.append((re.compile(regex), {m.upper() for m in operations}))
        request.app.state.ragis_path_methods = templates
    path = request.url.path
    matching = [(regex, ops) for regex, ops in templates if regex.fullmatch(path)]
    # A path the schema names literally (`/api/documents/upload`) is that operation, even where
    # a template (`/api/documents/{doc_id}`) would match it too: as a client reads the schema.
    literal = [ops for regex, ops in matching if regex.pattern == re.escape(path)]
    for operations in literal or [ops for _, ops in matching]:
        methods |= operations & HTTP_METHODS
    return sorted(methods)


def headers_for(exc: RagisError) -> dict[str, str]:
    """The headers an error's answer carries: `Retry-After` of a lockout, `WWW-Authenticate` of
    a 401."""
    if isinstance(exc, TooManyAttempts):
        return {"Retry-After": str(max(1, exc.retry_after))}
    if isinstance(exc, Unauthenticated):
        # RFC 9110: a 401 names how to authenticate. Not `Basic`, which would make a browser
        # open its own sign-in dialog.
        return {"WWW-Authenticate": 'Bearer realm="ragis"'}
    return {}


def error_body(code: str, message: str) -> dict[str, dict[str, str]]:
    return {"error": {"code": code, "message": message}}


def _describe_validation(exc: RequestValidationError) -> str:
    problems = []
    for err in exc.errors()[:5]:
        loc = [str(p) for p in err.get("loc", ()) if p != "body"]
        where = ".".join(loc) or "request body"
        problems.append(f"{where}: {err.get('msg', 'invalid')}")
    return "Invalid request — " + "; ".join(problems) + "."


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RagisError)
    async def _ragis(request: Request, exc: RagisError) -> JSONResponse:
        status = status_for(exc)
        if status >= 500:
            # The cause (a redis-py or httpx error, say) is the log's, never the client's.
            cause = f" ({exc.__cause__!r})" if exc.__cause__ is not None else ""
            log.warning(
                "%s %s -> %s: %s%s", request.method, request.url.path, status, exc.message, cause
            )
        headers = headers_for(exc)
        return JSONResponse(
            error_body(exc.code, exc.message), status_code=status, headers=headers or None
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(
            error_body("invalid_request", _describe_validation(exc)), status_code=422
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and exc.detail == FASTAPI_BODY_ERROR:
            # A body that is not UTF-8 JSON: a 422 like every other unreadable body.
            message = "Invalid request — the body is not valid JSON (it must be UTF-8)."
            return JSONResponse(error_body("invalid_request", message), status_code=422)
        code = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}.get(
            exc.status_code, "http_error"
        )
        message = exc.detail if isinstance(exc.detail, str) else "Request failed."
        headers = dict(exc.headers or {})
        if exc.status_code == 404 and message == "Not Found":
            message = f"There is no endpoint {request.method} {request.url.path}."
        if exc.status_code == 405:
            allowed = allowed_methods(request, headers.get("Allow", ""))
            headers["Allow"] = ", ".join(allowed)
            message = f"{request.url.path} does not take {request.method}; it takes " + (
                ", ".join(allowed) + "."
            )
        return JSONResponse(error_body(code, message), status_code=exc.status_code, headers=headers)

    @app.exception_handler(ClientDisconnect)
    async def _client_gone(request: Request, exc: ClientDisconnect) -> JSONResponse:
        # A client that closes the connection mid-request (a cancelled upload, a closed tab) is
        # not a fault of ragis: one line at INFO, no traceback. The answer reaches no one.
        log.info(
            "%s %s: the client went away before sending the whole request",
            request.method,
            request.url.path,
        )
        message = "The connection closed before the whole request arrived."
        return JSONResponse(error_body("client_disconnected", message), status_code=400)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse(
            error_body("internal_error", "ragis hit an unexpected error; see the service log."),
            status_code=500,
        )
