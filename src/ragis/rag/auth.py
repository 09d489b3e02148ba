"""The RAG service answers only the gateway: every request carries the internal token.

`InternalToken` is pure ASGI middleware in front of every path, /health and the OpenAPI schema
included: a request without `Authorization: Bearer <RAGIS_INTERNAL_TOKEN>` gets a 401
`unauthenticated` JSON answer (with `WWW-Authenticate`) before any route, dependency or body
parser runs. The token is compared in constant time (`hmac.compare_digest`), so how long a
refusal takes says nothing about how much of a guess was right.

The workspace and user headers the gateway sends (ragis.contract.Caller) are trusted only
because the token came with them.
"""

from __future__ import annotations

import hmac

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from ragis.errors import ConfigError
from ragis.web.errors import error_body

__all__ = ["InternalToken", "require_token"]

_SCHEME = b"bearer"


def require_token(token: str | None) -> str:
    """The internal token, or the `ConfigError` sentence of a service started without one."""
    if not token:
        raise ConfigError(
            "The RAG service needs RAGIS_INTERNAL_TOKEN (at least 32 characters), the secret "
            "the gateway proves itself with: `ragis up` sets it at each start, and compose "
            "passes it as a secret."
        )
    return token


class InternalToken:
    def __init__(self, app: ASGIApp, *, token: str) -> None:
        self._app = app
        self._expected = require_token(token).encode("utf-8")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self._accepts(scope):
            await self._app(scope, receive, send)
            return
        if scope["type"] == "websocket":  # the service has none; refused all the same
            await send({"type": "websocket.close", "code": 1008})
            return
        response = JSONResponse(
            error_body(
                "unauthenticated",
                "The RAG service answers only the gateway: send its internal token "
                "(Authorization: Bearer <RAGIS_INTERNAL_TOKEN>).",
            ),
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer realm="ragis-rag"'},
        )
        await response(scope, receive, send)

    def _accepts(self, scope: Scope) -> bool:
        given = [value for name, value in scope["headers"] if name == b"authorization"]
        if len(given) != 1:
            return False
        scheme, _, token = given[0].partition(b" ")
        # Compared even when the scheme is wrong: one code path, one timing.
        matches = hmac.compare_digest(token.strip(), self._expected)
        return matches and scheme.lower() == _SCHEME
