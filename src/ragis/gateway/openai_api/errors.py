"""Errors under `/v1` in OpenAI's shape, so that OpenAI's SDKs raise their usual exceptions.

    {"error": {"message": "...", "type": "...", "code": "...", "param": null}}

    status  type                    raised by the SDK as       from
    400     invalid_request_error   BadRequestError            a body ragis cannot read or use
    401     authentication_error    AuthenticationError        no key, or a key ragis refuses
    403     permission_error        PermissionDeniedError      a key of another workspace
    404     invalid_request_error   NotFoundError              an unknown model (collection)
    409     invalid_request_error   ConflictError              a name already taken
    413     invalid_request_error   APIStatusError             a body or question over a limit
    429     rate_limit_error        RateLimitError             too many failed sign-ins
    5xx     api_error               InternalServerError        the RAG service, Redis or the LLM

OpenAI answers an invalid body with 400, never 422: ragis's 422s become 400s here. The `code` is
ragis's own stable name (`invalid_api_key` and `model_not_found` where OpenAI's SDKs and clients
look for those). `OpenAIRoute`, the route class of the `/v1` router, renders every error raised
by a route or its dependencies (sign-in, workspace) in this shape; the rest of the gateway keeps
ragis's `{"error": {"code", "message"}}`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from ragis.errors import RagisError
from ragis.gateway.rag_client import RagAnswerError
from ragis.web.errors import headers_for, status_for

__all__ = [
    "OpenAIRoute",
    "error_body",
    "error_for",
    "error_response",
    "error_type",
]

log = logging.getLogger("ragis.gateway.openai")

_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    429: "rate_limit_error",
}
_CODES = {401: "invalid_api_key", 405: "method_not_allowed", 413: "too_large"}
_MAX_PROBLEMS = 5


def error_type(status: int) -> str:
    """OpenAI's error `type` for an HTTP status."""
    if status >= 500:
        return "api_error"
    return _TYPES.get(status, "invalid_request_error")


def error_body(status: int, code: str, message: str) -> dict[str, dict[str, Any]]:
    return {"error": {"message": message, "type": error_type(status), "code": code, "param": None}}


def error_response(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        error_body(status, code, message), status_code=status, headers=dict(headers or {}) or None
    )


def error_for(request: Request, exc: Exception) -> JSONResponse:
    """The answer to an error raised while handling a `/v1` request."""
    if isinstance(exc, RagAnswerError):
        status = 400 if exc.status == 422 else exc.status
        code = "model_not_found" if status == 404 else exc.code
        return error_response(status, code, exc.message)
    if isinstance(exc, RagisError):
        status = status_for(exc)
        if status >= 500:
            cause = f" ({exc.__cause__!r})" if exc.__cause__ is not None else ""
            log.warning("%s %s -> %s: %s%s", request.method, request.url.path, status, exc, cause)
        status = 400 if status == 422 else status
        code = "invalid_api_key" if status == 401 else exc.code
        return error_response(status, code, exc.message, headers_for(exc))
    if isinstance(exc, RequestValidationError):
        return error_response(400, "invalid_request", _describe(exc))
    if isinstance(exc, StarletteHTTPException):
        return _http_error(request, exc)
    if isinstance(exc, ClientDisconnect):
        message = "The connection closed before the whole request arrived."
        return error_response(400, "client_disconnected", message)
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    message = "ragis hit an unexpected error; see the service log."
    return error_response(500, "internal_error", message)


class OpenAIRoute(APIRoute):
    """A route whose errors, its dependencies' included, answer in OpenAI's shape."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def openai_errors(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:
                return error_for(request, exc)

        return openai_errors


def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    status = exc.status_code
    if status == 400:
        # FastAPI's "There was an error parsing the body": not JSON, not UTF-8, nested too deep.
        message = "The body is not valid JSON (it must be a UTF-8 JSON object)."
        return error_response(400, "invalid_json", message)
    message = exc.detail if isinstance(exc.detail, str) else "The request failed."
    return error_response(status, _CODES.get(status, "http_error"), message, exc.headers)


def _describe(exc: RequestValidationError) -> str:
    errors = exc.errors()
    if any(err.get("type") == "json_invalid" for err in errors):
        return "The body is not valid JSON (it must be a UTF-8 JSON object)."
    problems = []
    for err in errors[:_MAX_PROBLEMS]:
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "the body"
        message = str(err.get("msg", "invalid"))
        problems.append(f"{where}: {message.removeprefix('Value error, ')}")
    return "Invalid request — " + "; ".join(problems) + "."
