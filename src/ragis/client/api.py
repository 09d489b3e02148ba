"""A small async client of the gateway's public API (what the CLI and scripts use)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx

from ragis.errors import NotFound, RagisError, UpstreamError

__all__ = ["GatewayClient", "GatewayError"]


class GatewayError(RagisError):
    """The gateway answered with an error; `code` and `message` are its own."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class GatewayClient:
    def __init__(self, base_url: str, *, timeout: float = 600.0) -> None:
        self.base_url = base_url
        self._http = httpx.AsyncClient(
            base_url=base_url, timeout=httpx.Timeout(timeout, connect=5.0)
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> GatewayClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def _unreachable(self, exc: httpx.HTTPError) -> UpstreamError:
        return UpstreamError(
            f"The ragis gateway at {self.base_url} does not answer ({type(exc).__name__}): "
            "start ragis with ./scripts/up (or `ragis up`), or set RAGIS_GATEWAY_URL."
        )

    async def health(self) -> dict[str, Any]:
        try:
            response = await self._http.get("/api/health")
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from None
        return _json_or_raise(response)

    async def upload(self, path: Path, *, collection: str) -> dict[str, Any]:
        """Upload one file; returns its per-file result (`ok` true or false), never raises on
        a refused file, only when the gateway cannot be reached."""
        try:
            with path.open("rb") as handle:
                response = await self._http.post(
                    "/api/documents/upload",
                    files={"file": (path.name, handle, "application/octet-stream")},
                    data={"collection": collection},
                )
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from None
        try:
            body = response.json()
        except ValueError:
            body = {}
        results = body.get("results") if isinstance(body, dict) else None
        if isinstance(results, list) and results:
            result: dict[str, Any] = results[0]
            return result
        error = body.get("error", {}) if isinstance(body, dict) else {}
        return {
            "filename": path.name,
            "ok": False,
            "error": {
                "code": error.get("code", f"http_{response.status_code}"),
                "message": error.get(
                    "message", f"the gateway answered HTTP {response.status_code}"
                ),
            },
        }

    async def chat(
        self,
        message: str,
        *,
        collection: str | None = None,
        session_id: str | None = None,
        top_k: int | None = None,
    ) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        """The chat events as (type, data), in order; JSON errors before the stream raise."""
        body: dict[str, Any] = {"message": message}
        if collection:
            body["collection"] = collection
        if session_id:
            body["session_id"] = session_id
        if top_k:
            body["top_k"] = top_k
        try:
            async with self._http.stream("POST", "/api/chat/stream", json=body) as response:
                if response.status_code != 200:
                    await response.aread()
                    _json_or_raise(response)
                event, data_lines = "message", list[str]()
                async for line in response.aiter_lines():
                    if line == "":
                        if data_lines:
                            yield event, json.loads("\n".join(data_lines))
                        event, data_lines = "message", list[str]()
                    elif line.startswith(":"):
                        continue
                    elif line.startswith("event:"):
                        event = line[6:].strip()
                    elif line.startswith("data:"):
                        data_lines.append(line[5:].lstrip())
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from None


def _json_or_raise(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code >= 400:
        error = body.get("error", {}) if isinstance(body, dict) else {}
        message = error.get("message") or f"The gateway answered HTTP {response.status_code}."
        if response.status_code == 404:
            raise NotFound(message)
        raise GatewayError(response.status_code, error.get("code", "http_error"), message)
    if not isinstance(body, dict):
        raise GatewayError(response.status_code, "bad_response", "The gateway sent no JSON.")
    return body
