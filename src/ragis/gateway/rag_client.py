"""The gateway's client of the RAG service: one method per endpoint it uses, over `aiohttp`.

Every request carries the internal token (`Authorization: Bearer <RAGIS_INTERNAL_TOKEN>`, a
default header of the session: `new_session`), and every data request the caller's workspace
and user (`Caller.headers()`): the RAG service scopes its keys by them and trusts them only
because the token came along.

Requests are spread round-robin over the configured URLs; a URL that refuses the connection is
skipped (the request had not been sent, so trying the next one is safe). What comes back:

- a 2xx answer: its JSON object;
- a ragis error answer `{"error": {"code", "message"}}`: `RagAnswerError`, which keeps the RAG
  service's status, code and message so the gateway passes them through unchanged;
- no answer (refused everywhere, timed out, connection cut), an answer that is not ragis JSON,
  or an `/index` answer that is not the contract's `IndexResponse`: `UpstreamError` with a
  sentence naming the URL ("the RAG service at URL does not answer").

Time limits (`new_session`): `CONNECT_TIMEOUT` to connect, `RAGIS_RAG_TIMEOUT` between two reads
(for a stream: between two chunks), none on a whole request, so that a long `/index` still ends.
"""

from __future__ import annotations

import itertools
import json as jsonlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

import aiohttp
from pydantic import SecretStr, ValidationError

from ragis import __version__
from ragis.contract import (
    Caller,
    CollectionUpdate,
    ConversationUpdate,
    DocumentUpdate,
    IndexRequest,
    IndexResponse,
    TruncateRequest,
)
from ragis.contract.documents import ORIGINAL_FILENAME_HEADER
from ragis.errors import ConfigError, RagisError, UpstreamError
from ragis.obs.outgoing import outgoing_headers

__all__ = ["ChatStream", "JSONObject", "Original", "RagAnswerError", "RagClient", "new_session"]

JSONObject = dict[str, Any]

CONNECT_TIMEOUT = 5.0
HEALTH_TIMEOUT = 10.0
POOL_SIZE = 100
# uvicorn closes a keep-alive connection after 5 s idle: drop ours before, or a POST (which is
# never retried) could go out on a connection the RAG service is closing.
KEEPALIVE_SECONDS = 4.0

# What breaks a request after it was sent (aiohttp's timeouts are TimeoutErrors).
_TRANSPORT_ERRORS = (aiohttp.ClientError, TimeoutError, ConnectionError)
_JSON_HEADERS = {"Content-Type": "application/json"}
_NDJSON = "application/x-ndjson"


def new_session(read_timeout: float, token: SecretStr | str | None) -> aiohttp.ClientSession:
    """The HTTP session of a `RagClient`, sending the internal `token` with every request;
    open it in a lifespan and close it at shutdown. Without a token: `ConfigError` (the RAG
    service would refuse every request, so the gateway does not start).

    No proxies from the environment and no compression (streams must flow as they come)."""
    secret = token.get_secret_value() if isinstance(token, SecretStr) else token
    if not secret:
        raise ConfigError(
            "The gateway needs RAGIS_INTERNAL_TOKEN (at least 32 characters), the secret it "
            "proves itself with to the RAG service: `ragis up` sets it at each start, and "
            "compose passes it as a secret."
        )
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=POOL_SIZE, keepalive_timeout=KEEPALIVE_SECONDS),
        timeout=_timeout(read_timeout, connect=CONNECT_TIMEOUT),
        headers={
            "Accept-Encoding": "identity",
            "User-Agent": f"ragis-gateway/{__version__}",
            "Authorization": f"Bearer {secret}",
        },
        trust_env=False,
    )


class RagAnswerError(RagisError):
    """The RAG service answered with a ragis error: passed to the gateway's caller as it is."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


@dataclass(slots=True)
class ChatStream:
    """An open `/chat/stream` answer (status 200, headers read, body not yet). Close it."""

    url: str
    response: aiohttp.ClientResponse

    async def aclose(self) -> None:
        """Close the connection at once, unless the body was read to its end (then it went
        back to the pool already): the RAG service sees the disconnect and stops its LLM call."""
        self.response.close()


@dataclass(frozen=True, slots=True)
class Original:
    """A document's kept file, as the RAG service served it."""

    data: bytes
    content_type: str
    filename: str


class RagClient:
    def __init__(self, http: aiohttp.ClientSession, urls: Sequence[str]) -> None:
        if not urls:
            raise ValueError("RagClient needs at least one URL")
        self._http = http
        self.urls = tuple(u.rstrip("/") for u in urls)
        self._turn = itertools.count()

    # --- endpoints -------------------------------------------------------------------------

    async def index(self, request: IndexRequest, caller: Caller) -> IndexResponse:
        """Index one document. Only the fields set when `request` was built are sent (a chunk
        without a page carries no `page`)."""
        body = request.model_dump(mode="json", exclude_unset=True)
        url, answer = await self._json_from("POST", "/index", caller, json=body)
        return _index_response(url, answer)

    async def index_stream(
        self, request: IndexRequest, caller: Caller, progress: Callable[[int, int], None]
    ) -> IndexResponse:
        """`index` in its streaming form (`Accept: application/x-ndjson`): `progress(embedded,
        total)` after each batch the RAG service wrote, then its answer. Cancelled (the client
        left), it closes the request at once: the RAG service cancels the indexing and keeps
        nothing of the document."""
        body = request.model_dump(mode="json", exclude_unset=True)
        url, response = await self._open("POST", "/index", caller, json=body, accept=_NDJSON)
        try:
            if response.status >= 400 or _NDJSON not in response.headers.get("content-type", ""):
                return _index_response(
                    url, _answer(url, response.status, await self._read(url, response))
                )
            try:
                async for raw in response.content:
                    line = _ndjson_line(url, raw)
                    if line is None:
                        continue
                    kind = line.get("type")
                    if kind == "progress":
                        progress(int(line["embedded"]), int(line["total"]))
                    elif kind == "result":
                        response.release()
                        return _index_response(url, line)
                    elif kind == "error":
                        error = line.get("error") or {}
                        raise RagAnswerError(
                            int(line["status"]), str(error["code"]), str(error["message"])
                        )
            except _TRANSPORT_ERRORS as exc:
                raise self._failure(url, exc, None) from None
            except (KeyError, TypeError, ValueError) as exc:
                raise UpstreamError(
                    f"The RAG service at {url} streamed /index lines the gateway cannot read "
                    f"({type(exc).__name__}): are both services the same ragis version?"
                ) from None
            raise UpstreamError(
                f"The RAG service at {url} ended the /index stream before its result."
            )
        except BaseException:
            response.close()
            raise

    async def delete_document(self, collection: str, doc_id: str, caller: Caller) -> JSONObject:
        return await self._json("DELETE", f"/index/{_seg(collection)}/{_seg(doc_id)}", caller)

    async def list_documents(
        self, collection: str, caller: Caller, *, source: str | None = None
    ) -> JSONObject:
        """The collection's documents; with `source`, only the ready one with that source."""
        path = f"/collections/{_seg(collection)}/documents"
        if source is not None:
            path += f"?source={quote(source, safe='')}"
        return await self._json("GET", path, caller)

    async def update_document(
        self, collection: str, doc_id: str, update: DocumentUpdate, caller: Caller
    ) -> JSONObject:
        """Set a document's `source` and/or `tags` (`PATCH`); the document after."""
        path = f"/collections/{_seg(collection)}/documents/{_seg(doc_id)}"
        body = update.model_dump(mode="json", exclude_none=True)
        return await self._json("PATCH", path, caller, json=body)

    async def get_document(self, collection: str, doc_id: str, caller: Caller) -> JSONObject:
        path = f"/collections/{_seg(collection)}/documents/{_seg(doc_id)}"
        return await self._json("GET", path, caller)

    async def document_passages(
        self, collection: str, doc_id: str, start: int, limit: int, caller: Caller
    ) -> JSONObject:
        """A document's stored passages from position `start`, at most `limit` of them."""
        path = (
            f"/collections/{_seg(collection)}/documents/{_seg(doc_id)}/passages"
            f"?start={int(start)}&limit={int(limit)}"
        )
        return await self._json("GET", path, caller)

    async def put_original(
        self, collection: str, document_id: str, data: bytes, content_type: str, caller: Caller
    ) -> None:
        """Keep `data` (the uploaded file, of `content_type`) as the ready document's original
        (the RAG service refuses it over RAGIS_KEEP_ORIGINALS_MB: 413)."""
        path = f"/collections/{_seg(collection)}/documents/{_seg(document_id)}/original"
        await self._json("PUT", path, caller, raw=(data, content_type))

    async def get_original(self, collection: str, document_id: str, caller: Caller) -> Original:
        """The document's kept file; `RagAnswerError` 404 when there is no such document or its
        original was not kept (the message says which)."""
        path = f"/collections/{_seg(collection)}/documents/{_seg(document_id)}/original"
        url, response = await self._open("GET", path, caller)
        body = await self._read(url, response)
        if response.status >= 400:
            _answer(url, response.status, body)
        return Original(
            data=body,
            content_type=response.headers.get("content-type", "application/octet-stream"),
            filename=unquote(response.headers.get(ORIGINAL_FILENAME_HEADER, "")),
        )

    async def search(self, body: Mapping[str, Any], caller: Caller) -> JSONObject:
        """`POST /search`: the passages closest to a query (a `SearchRequest`), no answer."""
        return await self._json("POST", "/search", caller, json=body)

    async def list_collections(self, caller: Caller) -> JSONObject:
        return await self._json("GET", "/collections", caller)

    async def create_collection(self, name: str, caller: Caller) -> JSONObject:
        return await self._json("POST", "/collections", caller, json={"name": name})

    async def update_collection(
        self, name: str, update: CollectionUpdate, caller: Caller
    ) -> JSONObject:
        """Change a collection's settings (`PATCH /collections/{name}`); the collection after."""
        body = update.model_dump(mode="json")
        return await self._json("PATCH", f"/collections/{_seg(name)}", caller, json=body)

    async def delete_collection(self, name: str, caller: Caller) -> JSONObject:
        return await self._json("DELETE", f"/collections/{_seg(name)}", caller)

    async def get_session(self, session_id: str, caller: Caller) -> JSONObject:
        return await self._json("GET", f"/sessions/{_seg(session_id)}", caller)

    async def delete_session(self, session_id: str, caller: Caller) -> JSONObject:
        return await self._json("DELETE", f"/sessions/{_seg(session_id)}", caller)

    async def list_conversations(
        self,
        caller: Caller,
        *,
        collection: str | None = None,
        query: str | None = None,
        limit: int | None = None,
    ) -> JSONObject:
        """The caller's conversations, newest first (`GET /sessions`)."""
        params = {"collection": collection, "q": query, "limit": limit}
        given = "&".join(
            f"{name}={quote(str(value), safe='')}"
            for name, value in params.items()
            if value is not None
        )
        return await self._json("GET", "/sessions" + (f"?{given}" if given else ""), caller)

    async def rename_conversation(
        self, session_id: str, update: ConversationUpdate, caller: Caller
    ) -> JSONObject:
        """Give the caller's conversation a title; the conversation after."""
        path = f"/sessions/{_seg(session_id)}"
        return await self._json("PATCH", path, caller, json=update.model_dump(mode="json"))

    async def truncate_session(
        self, session_id: str, request: TruncateRequest, caller: Caller
    ) -> JSONObject:
        """Keep the first `request.keep` messages of the caller's session; the conversation
        after."""
        path = f"/sessions/{_seg(session_id)}/truncate"
        return await self._json("POST", path, caller, json=request.model_dump(mode="json"))

    async def delete_workspace(self, caller: Caller) -> JSONObject:
        """Remove every key of `caller.workspace` (collections, documents, cache, sessions)."""
        return await self._json("DELETE", "/workspace", caller)

    async def models(self) -> JSONObject:
        """The LLM models a chat turn may name (`GET /models`, no workspace's)."""
        return await self._json("GET", "/models", None)

    async def health(self) -> tuple[str, JSONObject]:
        """The RAG service's `/health` and the URL that answered it (short timeout)."""
        return await self._json_from("GET", "/health", None, time_limit=HEALTH_TIMEOUT)

    async def open_chat(self, body: Mapping[str, Any], caller: Caller) -> ChatStream:
        """Start `/chat/stream`. A 4xx/5xx answer is read, closed and raised as
        `RagAnswerError`; the caller must close the returned stream."""
        url, response = await self._open("POST", "/chat/stream", caller, json=body)
        try:
            if response.status >= 400:
                _answer(url, response.status, await self._read(url, response))
            content_type = response.headers.get("content-type", "")
            if not content_type.startswith("text/event-stream"):
                raise UpstreamError(
                    f"The RAG service at {url} answered the chat with {content_type or 'no'} "
                    "content instead of an event stream."
                )
        except BaseException:
            response.close()
            raise
        return ChatStream(url, response)

    async def open_reindex(
        self, collection: str, body: Mapping[str, Any], caller: Caller
    ) -> ChatStream:
        """Start `/collections/{collection}/reindex` (NDJSON lines: contract/reindex.py). A
        refusal is read, closed and raised as `RagAnswerError`; the caller closes the stream
        (closing it early stops the reindex, which resumes when run again)."""
        path = f"/collections/{_seg(collection)}/reindex"
        url, response = await self._open("POST", path, caller, json=body, accept=_NDJSON)
        try:
            if response.status >= 400 or _NDJSON not in response.headers.get("content-type", ""):
                _answer(url, response.status, await self._read(url, response))
                raise UpstreamError(f"The RAG service at {url} did not stream the reindex.")
        except BaseException:
            response.close()
            raise
        return ChatStream(url, response)

    # --- transport -------------------------------------------------------------------------

    async def _json(
        self,
        method: str,
        path: str,
        caller: Caller | None,
        *,
        json: Mapping[str, Any] | None = None,
        raw: tuple[bytes, str] | None = None,
    ) -> JSONObject:
        return (await self._json_from(method, path, caller, json=json, raw=raw))[1]

    async def _json_from(
        self,
        method: str,
        path: str,
        caller: Caller | None,
        *,
        json: Mapping[str, Any] | None = None,
        time_limit: float | None = None,
        raw: tuple[bytes, str] | None = None,
    ) -> tuple[str, JSONObject]:
        """The URL that answered and its JSON object."""
        url, response = await self._open(
            method, path, caller, json=json, time_limit=time_limit, raw=raw
        )
        body = await self._read(url, response, time_limit)
        return url, _answer(url, response.status, body)

    async def _open(
        self,
        method: str,
        path: str,
        caller: Caller | None,
        *,
        json: Mapping[str, Any] | None = None,
        time_limit: float | None = None,
        raw: tuple[bytes, str] | None = None,
        accept: str | None = None,
    ) -> tuple[str, aiohttp.ClientResponse]:
        """Send to the next URL in turn, skipping those that refuse the connection; the answer
        comes back with its headers read and its body not. `caller`: whose data (None only for
        what is no workspace's, /health). `raw`: a body of bytes and its content type, sent
        as they are instead of JSON."""
        data = None if json is None else _encode(json)
        headers = {
            **(caller.headers() if caller is not None else {}),
            **(_JSON_HEADERS if data is not None else {}),
            # The request id and, with tracing on, the traceparent of the request served.
            **outgoing_headers(),
        }
        if raw is not None:
            data, headers["Content-Type"] = raw
        if accept is not None:
            headers["Accept"] = accept
        timeout = self._http.timeout if time_limit is None else _timeout(time_limit)
        start = next(self._turn)
        refused: list[str] = []
        for i in range(len(self.urls)):
            url = self.urls[(start + i) % len(self.urls)]
            try:
                response = await self._http.request(
                    method,
                    url + path,
                    data=data,
                    headers=headers or None,
                    timeout=timeout,
                    allow_redirects=False,
                )
            except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError):
                refused.append(url)
            except _TRANSPORT_ERRORS as exc:
                raise self._failure(url, exc, time_limit) from None
            else:
                return url, response
        where = refused[0] if len(refused) == 1 else "any of " + ", ".join(refused)
        raise UpstreamError(
            f"The RAG service at {where} does not answer (connection refused): start it "
            "(`ragis up` starts everything) or set RAGIS_RAG_URL to where it runs."
        )

    async def _read(
        self, url: str, response: aiohttp.ClientResponse, time_limit: float | None = None
    ) -> bytes:
        """The whole body; the connection goes back to the pool (or is closed if it broke)."""
        try:
            body = await response.read()
        except BaseException as exc:
            response.close()
            if isinstance(exc, _TRANSPORT_ERRORS):
                raise self._failure(url, exc, time_limit) from None
            raise
        response.release()
        return body

    def _failure(self, url: str, exc: BaseException, time_limit: float | None) -> UpstreamError:
        if isinstance(exc, TimeoutError):
            seconds = time_limit if time_limit is not None else self._http.timeout.sock_read
            limit = f"{seconds:g} s" if seconds is not None else "no limit"
            return UpstreamError(
                f"The RAG service at {url} did not answer in time ({limit}; RAGIS_RAG_TIMEOUT)."
            )
        return UpstreamError(
            f"The RAG service at {url} does not answer: the connection broke "
            f"({type(exc).__name__})."
        )


def _answer(url: str, status: int, content: bytes) -> JSONObject:
    """The JSON object of a read answer; a ragis error body becomes `RagAnswerError`."""
    try:
        body = jsonlib.loads(content)
    except ValueError:
        body = None
    if status == 401:
        # Only the internal token is checked there: passing this 401 on would tell the user that
        # *their* sign-in or API key failed, when the two services disagree on their secret.
        raise UpstreamError(
            f"The RAG service at {url} refused the gateway's internal token: give both "
            "services the same RAGIS_INTERNAL_TOKEN (`ragis up` and compose do)."
        )
    if status >= 400:
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict) and "code" in error and "message" in error:
            raise RagAnswerError(status, str(error["code"]), str(error["message"]))
        raise UpstreamError(
            f"The RAG service at {url} answered HTTP {status} without a ragis "
            "error body: is RAGIS_RAG_URL really the RAG service?"
        )
    if not isinstance(body, dict):
        raise UpstreamError(
            f"The RAG service at {url} answered something that is not a JSON object: is "
            "RAGIS_RAG_URL really the RAG service?"
        )
    return body


def _index_response(url: str, answer: JSONObject) -> IndexResponse:
    try:
        return IndexResponse.model_validate(answer)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the answer"
        raise UpstreamError(
            f"The RAG service at {url} answered /index with a body the gateway cannot read "
            f"({where}: {first['msg']}): are the gateway and the RAG service the same "
            "ragis version?"
        ) from None


def _ndjson_line(url: str, raw: bytes) -> JSONObject | None:
    """One line of an NDJSON stream as its object; None for a blank line."""
    if not raw.strip():
        return None
    value = jsonlib.loads(raw)
    if not isinstance(value, dict):
        raise ValueError(f"a line of {url} is not a JSON object")
    return value


def _encode(body: Mapping[str, Any]) -> bytes:
    """Compact UTF-8 JSON, NaN refused (as httpx sent it)."""
    return jsonlib.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def _timeout(read: float, *, connect: float | None = None) -> aiohttp.ClientTimeout:
    """`read` seconds between two reads and (unless `connect` says) to connect; no limit on a
    whole request, nor on the wait for a free connection of the pool."""
    return aiohttp.ClientTimeout(
        total=None, connect=None, sock_connect=read if connect is None else connect, sock_read=read
    )


def _seg(value: str) -> str:
    """One path segment, quoted (routes check ids against a strict pattern before this)."""
    return quote(value, safe="")
