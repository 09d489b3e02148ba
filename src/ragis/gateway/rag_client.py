"""The gateway's client of the RAG service: one method per endpoint it uses, over `httpx`.

Requests are spread round-robin over the configured URLs; a URL that refuses the connection is
skipped (the request had not been sent, so trying the next one is safe). What comes back:

- a 2xx answer: its JSON object;
- a ragis error answer `{"error": {"code", "message"}}`: `RagAnswerError`, which keeps the RAG
  service's status, code and message so the gateway passes them through unchanged;
- no answer (refused everywhere, timed out, connection cut) or an answer that is not ragis JSON:
  `UpstreamError` with a sentence naming the URL ("the RAG service at URL does not answer").
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from ragis.errors import RagisError, UpstreamError

__all__ = ["ChatStream", "Indexed", "JSONObject", "RagAnswerError", "RagClient"]

JSONObject = dict[str, Any]

HEALTH_TIMEOUT = 10.0


class RagAnswerError(RagisError):
    """The RAG service answered with a ragis error: passed to the gateway's caller as it is."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


@dataclass(frozen=True, slots=True)
class Indexed:
    """What `/index` answered for one document."""

    document_id: str
    chunks: int
    duplicate: bool
    replaced: bool
    embed_ms: float
    write_ms: float


@dataclass(slots=True)
class ChatStream:
    """An open `/chat/stream` answer (status 200, headers read, body not yet). Close it."""

    url: str
    response: httpx.Response

    async def aclose(self) -> None:
        await self.response.aclose()


class RagClient:
    def __init__(self, http: httpx.AsyncClient, urls: Sequence[str]) -> None:
        if not urls:
            raise ValueError("RagClient needs at least one URL")
        self._http = http
        self.urls = tuple(u.rstrip("/") for u in urls)
        self._turn = itertools.count()

    # --- endpoints -------------------------------------------------------------------------

    async def index(self, body: Mapping[str, Any]) -> Indexed:
        answer = await self._json("POST", "/index", json=body)
        timings = answer.get("timings") or {}
        return Indexed(
            document_id=str(answer["document_id"]),
            chunks=int(answer["chunks"]),
            duplicate=bool(answer["duplicate"]),
            replaced=bool(answer.get("replaced", False)),
            embed_ms=float(timings.get("embed_ms", 0.0)),
            write_ms=float(timings.get("write_ms", 0.0)),
        )

    async def delete_document(self, collection: str, doc_id: str) -> JSONObject:
        return await self._json("DELETE", f"/index/{_seg(collection)}/{_seg(doc_id)}")

    async def list_documents(self, collection: str) -> JSONObject:
        return await self._json("GET", f"/collections/{_seg(collection)}/documents")

    async def get_document(self, collection: str, doc_id: str) -> JSONObject:
        return await self._json("GET", f"/collections/{_seg(collection)}/documents/{_seg(doc_id)}")

    async def list_collections(self) -> JSONObject:
        return await self._json("GET", "/collections")

    async def create_collection(self, name: str) -> JSONObject:
        return await self._json("POST", "/collections", json={"name": name})

    async def delete_collection(self, name: str) -> JSONObject:
        return await self._json("DELETE", f"/collections/{_seg(name)}")

    async def get_session(self, session_id: str) -> JSONObject:
        return await self._json("GET", f"/sessions/{_seg(session_id)}")

    async def delete_session(self, session_id: str) -> JSONObject:
        return await self._json("DELETE", f"/sessions/{_seg(session_id)}")

    async def health(self) -> tuple[str, JSONObject]:
        """The RAG service's `/health` and the URL that answered it (short timeout)."""
        url, response = await self._send("GET", "/health", time_limit=HEALTH_TIMEOUT)
        return url, await _answer(url, response)

    async def open_chat(self, body: Mapping[str, Any]) -> ChatStream:
        """Start `/chat/stream`. A 4xx/5xx answer is read, closed and raised as
        `RagAnswerError`; the caller must close the returned stream."""
        url, response = await self._send("POST", "/chat/stream", json=body, stream=True)
        try:
            if response.status_code >= 400:
                await response.aread()
                await _answer(url, response)
            content_type = response.headers.get("content-type", "")
            if not content_type.startswith("text/event-stream"):
                raise UpstreamError(
                    f"The RAG service at {url} answered the chat with {content_type or 'no'} "
                    "content instead of an event stream."
                )
        except BaseException:
            await response.aclose()
            raise
        return ChatStream(url, response)

    # --- transport -------------------------------------------------------------------------

    async def _json(
        self, method: str, path: str, *, json: Mapping[str, Any] | None = None
    ) -> JSONObject:
        url, response = await self._send(method, path, json=json)
        return await _answer(url, response)

    async def _send(
        self,
        method: str,
        path: str,
        *,
        json: Mapping[str, Any] | None = None,
        stream: bool = False,
        time_limit: float | None = None,
    ) -> tuple[str, httpx.Response]:
        """Send to the next URL in turn, skipping those that refuse the connection."""
        start = next(self._turn)
        refused: list[str] = []
        for i in range(len(self.urls)):
            url = self.urls[(start + i) % len(self.urls)]
            request = self._http.build_request(
                method,
                url + path,
                json=json,
                timeout=time_limit if time_limit is not None else httpx.USE_CLIENT_DEFAULT,
            )
            try:
                return url, await self._http.send(request, stream=stream)
            except (httpx.ConnectError, httpx.ConnectTimeout):
                refused.append(url)
            except httpx.TimeoutException:
                raise UpstreamError(
                    f"The RAG service at {url} did not answer in time "
                    f"({_seconds(self._http, time_limit)}; RAGIS_RAG_TIMEOUT)."
                ) from None
            except httpx.TransportError as exc:
                raise UpstreamError(
                    f"The RAG service at {url} does not answer: the connection broke "
                    f"({type(exc).__name__})."
                ) from None
        where = refused[0] if len(refused) == 1 else "any of " + ", ".join(refused)
        raise UpstreamError(
            f"The RAG service at {where} does not answer (connection refused): start it "
            "(`ragis up` starts everything) or set RAGIS_RAG_URL to where it runs."
        )


async def _answer(url: str, response: httpx.Response) -> JSONObject:
    """The JSON object of a read answer; a ragis error body becomes `RagAnswerError`."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code >= 400:
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict) and "code" in error and "message" in error:
            raise RagAnswerError(response.status_code, str(error["code"]), str(error["message"]))
        raise UpstreamError(
            f"The RAG service at {url} answered HTTP {response.status_code} without a ragis "
            "error body: is RAGIS_RAG_URL really the RAG service?"
        )
    if not isinstance(body, dict):
        raise UpstreamError(
            f"The RAG service at {url} answered something that is not a JSON object: is "
            "RAGIS_RAG_URL really the RAG service?"
        )
    return body


def _seg(value: str) -> str:
    """One path segment, quoted (routes check ids against a strict pattern before this)."""
    return quote(value, safe="")


def _seconds(http: httpx.AsyncClient, time_limit: float | None) -> str:
    seconds = time_limit if time_limit is not None else http.timeout.read
    return f"{seconds:g} s" if seconds is not None else "no limit"
