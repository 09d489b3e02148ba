"""Security headers on every answer of the gateway: `Content-Security-Policy`,
`X-Content-Type-Options: nosniff` and `Referrer-Policy: no-referrer`.

The policy lets the built web UI load its own scripts, styles and images, and talk to its own
origin, and nothing else: no inline script or style, no other origin, no plugin, no framing.
A document or an answer that smuggled markup past the UI's sanitiser still could not run or
load anything. A response that sets its own policy keeps it (the not-built page, whose one
inline style is allowed by its hash). The interactive API docs (FastAPI's Swagger UI) load
their script and style from a CDN and start with one inline script: on those paths the policy
allows that CDN and that script by its hash, computed from the page as sent.
"""

from __future__ import annotations

import base64
import hashlib
import re

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["APP_POLICY", "SecurityHeaders", "inline_hash", "policy"]

APP_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
DOCS_CDN = "https://cdn.jsdelivr.net"
DOCS_ICON = "https://fastapi.tiangolo.com"
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)


def inline_hash(source: str | bytes) -> str:
    """The CSP source expression that allows one inline script or style with this text."""
    raw = source.encode() if isinstance(source, str) else source
    return "'sha256-" + base64.b64encode(hashlib.sha256(raw).digest()).decode() + "'"


def policy(**changes: str) -> str:
    """The app's policy with some directives replaced (`script_src="..."` for `script-src`)."""
    directives = APP_POLICY | {name.replace("_", "-"): value for name, value in changes.items()}
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def _docs_policy(body: bytes) -> str:
    hashes = " ".join(inline_hash(script) for script in _INLINE_SCRIPT.findall(body))
    return policy(
        script_src=f"'self' {DOCS_CDN} {hashes}".strip(),
        style_src=f"'self' {DOCS_CDN}",
        img_src=f"'self' data: {DOCS_ICON}",
    )


class SecurityHeaders:
    """Pure ASGI (no buffering of streams): adds the headers to `http.response.start`."""

    def __init__(self, app: ASGIApp, *, docs_paths: frozenset[str] = frozenset()) -> None:
        self.app = app
        self.docs_paths = docs_paths
        self.app_policy = policy()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] in self.docs_paths:
            await self._docs(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                self._add(MutableHeaders(scope=message), self.app_policy)
            await send(message)

        await self.app(scope, receive, with_headers)

    async def _docs(self, scope: Scope, receive: Receive, send: Send) -> None:
        # A small generated page: held until complete, so its inline script can be hashed.
        start: Message | None = None
        body = bytearray()

        async def held(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] == "http.response.body" and start is not None:
                body.extend(message.get("body", b""))
                if message.get("more_body", False):
                    return
                self._add(MutableHeaders(scope=start), _docs_policy(bytes(body)))
                await send(start)
                await send({"type": "http.response.body", "body": bytes(body)})
                return
            await send(message)

        await self.app(scope, receive, held)

    @staticmethod
    def _add(headers: MutableHeaders, csp: str) -> None:
        headers.setdefault("Content-Security-Policy", csp)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "no-referrer")
