"""A small async client of the gateway's public API (what the CLI and scripts use).

It sends the API key (`Authorization: Bearer rgs_...`) and the workspace (`X-Ragis-Workspace`)
when it has them, and turns the gateway's refusals into `ragis.errors` with a sentence that says
what to do: 401 -> `Unauthenticated`, 403 -> `Forbidden`, 404 -> `NotFound`, 409 -> `Conflict`,
422 -> `InvalidInput`; any other error status -> `GatewayError`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from ragis.contract import WORKSPACE_HEADER, Role
from ragis.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    RagisError,
    Unauthenticated,
    UpstreamError,
)

__all__ = ["GatewayClient", "GatewayError"]


class GatewayError(RagisError):
    """The gateway answered with an error; `code` and `message` are its own."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class GatewayClient:
    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 600.0,
        api_key: str | None = None,
        workspace: str | None = None,
        headers: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """`headers` go with every request besides the key and workspace (the MCP endpoint
        forwards its caller's Host); `transport` lets clients made per request share one pool."""
        self.base_url = base_url
        self.workspace = workspace
        self.has_key = bool(api_key)
        sent = dict(headers or {})
        if api_key:
            sent["Authorization"] = f"Bearer {api_key}"
        if workspace:
            sent[WORKSPACE_HEADER] = workspace
        self._http = httpx.AsyncClient(
            base_url=base_url,
            timeout=httpx.Timeout(timeout, connect=5.0),
            headers=sent,
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> GatewayClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # --- errors ------------------------------------------------------------------------------

    def _unreachable(self, exc: httpx.HTTPError) -> UpstreamError:
        return UpstreamError(
            f"The ragis gateway at {self.base_url} does not answer ({type(exc).__name__}): "
            "start ragis with ./scripts/up (or `ragis up`), or set RAGIS_GATEWAY_URL."
        )

    def _refusal(
        self, status: int, code: str, message: str, *, workspace_404: bool = False
    ) -> RagisError:
        """The error for a refused request, as a sentence that says what to do."""
        if status == 401:
            how = (
                "create one in the web UI (user menu > API keys) or with `ragis key create "
                "NAME`, then set RAGIS_API_KEY."
            )
            if self.has_key:
                return Unauthenticated(
                    f"The gateway at {self.base_url} does not accept the API key in "
                    f"RAGIS_API_KEY (revoked, or not one of its keys): {how}"
                )
            return Unauthenticated(f"The gateway at {self.base_url} needs an API key: {how}")
        if status == 403:
            # Say where, unless the gateway's sentence already does.
            if self.workspace and repr(self.workspace) not in message:
                return Forbidden(f"Refused in workspace {self.workspace!r}: {message}")
            return Forbidden(message)
        if status == 404:
            # A workspace the caller is not a member of answers 404, as if it did not exist.
            if self.workspace and (workspace_404 or "workspace" in f"{code} {message}".lower()):
                return NotFound(
                    f"The gateway at {self.base_url} has no workspace {self.workspace!r} that "
                    "you are a member of: check the name, or ask one of its owners to add you."
                )
            return NotFound(message)
        if status == 409:
            return Conflict(message)
        if status in (413, 422):
            return InvalidInput(message)
        return GatewayError(status, code, message)

    def _checked(self, response: httpx.Response, *, workspace_404: bool = False) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code >= 400:
            error = body.get("error", {}) if isinstance(body, dict) else {}
            error = error if isinstance(error, dict) else {}
            message = str(
                error.get("message") or f"The gateway answered HTTP {response.status_code}."
            )
            code = str(error.get("code", "http_error"))
            raise self._refusal(response.status_code, code, message, workspace_404=workspace_404)
        if not isinstance(body, dict):
            raise GatewayError(response.status_code, "bad_response", "The gateway sent no JSON.")
        return body

    async def _call(
        self,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        params: dict[str, str | int] | None = None,
    ) -> dict[str, Any]:
        try:
            response = await self._http.request(method, path, json=body, params=params)
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from None
        return self._checked(response)

    # --- data --------------------------------------------------------------------------------

    async def health(self) -> dict[str, Any]:
        return await self._call("GET", "/api/health")

    async def me(self) -> dict[str, Any]:
        """Who the gateway takes us for, in which workspace (401 without a valid key)."""
        try:
            response = await self._http.get("/api/me")
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from None
        return self._checked(response, workspace_404=True)

    async def upload(
        self,
        path: Path,
        *,
        collection: str,
        source: str | None = None,
        replaces: str | None = None,
        tags: Sequence[str] = (),
    ) -> dict[str, Any]:
        """Upload one file; returns its per-file result (`ok` true or false). Raises only when
        the gateway cannot be reached or refuses the caller (401, 403, a workspace's 404), as
        those would refuse every other file too. `source`: where the file lives (a synced
        folder's relative path); `replaces`: the id of the ready document it replaces
        atomically. A file that cannot be read is a failed result, not an error."""
        form = {"collection": collection}
        if source is not None:
            form["source"] = source
        if replaces is not None:
            form["replaces"] = replaces
        if tags:
            form["tags"] = ",".join(tags)
        try:
            with path.open("rb") as handle:
                response = await self._http.post(
                    "/api/documents/upload",
                    files={"file": (path.name, handle, "application/octet-stream")},
                    data=form,
                )
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from None
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            return {
                "filename": path.name,
                "ok": False,
                "error": {"code": "unreadable", "message": f"cannot read it: {reason}"},
            }
        return self._upload_result(response, path.name)

    async def upload_bytes(
        self, filename: str, data: bytes, *, collection: str, tags: Sequence[str] = ()
    ) -> dict[str, Any]:
        """Upload `data` as the file `filename`; the result as `upload` returns it."""
        form = {"collection": collection}
        if tags:
            form["tags"] = ",".join(tags)
        try:
            response = await self._http.post(
                "/api/documents/upload",
                files={"file": (filename, data, "application/octet-stream")},
                data=form,
            )
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from None
        return self._upload_result(response, filename)

    async def ingest_url(
        self, url: str, *, collection: str, tags: Sequence[str] = ()
    ) -> dict[str, Any]:
        """Have the gateway fetch the page at `url` and ingest it; the result as `upload` returns
        one (`ok` false with the reason when the URL is refused or the page cannot be fetched)."""
        body: dict[str, Any] = {"url": url, "collection": collection}
        if tags:
            body["tags"] = list(tags)
        try:
            response = await self._http.post("/api/documents/url", json=body)
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from None
        if response.status_code in (401, 403, 404):
            self._checked(response, workspace_404=True)
        if response.status_code == 200:
            return self._checked(response)
        return self._upload_result(response, url)

    def _upload_result(self, response: httpx.Response, filename: str) -> dict[str, Any]:
        if response.status_code in (401, 403, 404):
            self._checked(response, workspace_404=True)
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
            "filename": filename,
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
        retrieval: str | None = None,
        doc_ids: Sequence[str] = (),
        history: Sequence[Mapping[str, str]] | None = None,
    ) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        """The chat events as (type, data), in order; JSON errors before the stream raise.
        `retrieval` ("hybrid", "vector", "lexical") overrides the service's mode; None: not sent.
        `doc_ids` restricts the sources to those documents (one: a question about it).
        `history` (even empty) makes the turn stateless: no session is read or written."""
        body: dict[str, Any] = {"message": message}
        if history is not None:
            body["history"] = [dict(m) for m in history]
        if doc_ids:
            body["filter"] = {"doc_ids": list(doc_ids)}
        if collection:
            body["collection"] = collection
        if session_id:
            body["session_id"] = session_id
        if top_k:
            body["top_k"] = top_k
        if retrieval is not None:
            body["retrieval"] = retrieval
        try:
            async with self._http.stream("POST", "/api/chat/stream", json=body) as response:
                if response.status_code != 200:
                    await response.aread()
                    self._checked(response)
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

    async def collections(self) -> list[dict[str, Any]]:
        return _items(await self._call("GET", "/api/collections"), "collections")

    async def reindex(self, collection: str, body: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        """The lines of `POST /api/collections/{collection}/reindex` (contract/reindex.py) as
        they come; JSON errors before the stream raise."""
        path = f"/api/collections/{quote(collection, safe='')}/reindex"
        headers = {"Accept": "application/x-ndjson"}
        try:
            async with self._http.stream("POST", path, json=body, headers=headers) as response:
                if response.status_code != 200:
                    await response.aread()
                    self._checked(response)
                async for line in response.aiter_lines():
                    if line.strip():
                        yield json.loads(line)
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from None

    async def documents(self, collection: str) -> list[dict[str, Any]]:
        """The documents of a collection, oldest first (none for a collection not made yet)."""
        body = await self._call("GET", "/api/documents", params={"collection": collection})
        return _items(body, "documents")

    async def rename_document(self, doc_id: str, collection: str, source: str) -> dict[str, Any]:
        """Set a document's source (a synced file moved): no re-embedding; the document."""
        path = f"/api/documents/{quote(doc_id, safe='')}"
        return await self._call(
            "PATCH", path, body={"source": source}, params={"collection": collection}
        )

    async def set_tags(self, doc_id: str, collection: str, tags: list[str]) -> dict[str, Any]:
        """Give a document a new list of tags (no re-embedding); the document."""
        path = f"/api/documents/{quote(doc_id, safe='')}"
        return await self._call(
            "PATCH", path, body={"tags": tags}, params={"collection": collection}
        )

    async def delete_document(self, doc_id: str, collection: str) -> dict[str, Any]:
        """Remove a document: its record, chunks and vectors."""
        path = f"/api/documents/{quote(doc_id, safe='')}"
        return await self._call("DELETE", path, params={"collection": collection})

    async def search(
        self,
        query: str,
        *,
        collection: str | None = None,
        top_k: int | None = None,
        doc_ids: Sequence[str] = (),
        tags: Sequence[str] = (),
    ) -> dict[str, Any]:
        """The passages closest to `query` (`POST /api/search`: retrieval only, no LLM)."""
        body: dict[str, Any] = {"query": query}
        if collection:
            body["collection"] = collection
        if top_k is not None:
            body["top_k"] = top_k
        if doc_ids or tags:
            body["filter"] = {"doc_ids": list(doc_ids), "tags": list(tags)}
        return await self._call("POST", "/api/search", body=body)

    async def document_passages(
        self, collection: str, doc_id: str, *, start: int = 0, limit: int = 50
    ) -> dict[str, Any]:
        """A document's stored passages from `start` on, in order (at most `limit`)."""
        path = (
            f"/api/collections/{quote(collection, safe='')}/documents/"
            f"{quote(doc_id, safe='')}/passages"
        )
        return await self._call("GET", path, params={"start": start, "limit": limit})

    async def update_collection(self, name: str, *, min_score: float | None) -> dict[str, Any]:
        """Set a collection's own grounded threshold (None: the service's); the collection."""
        path = f"/api/collections/{quote(name, safe='')}"
        return await self._call("PATCH", path, body={"min_score": min_score})

    # --- accounts (docs: the gateway's public API) ---------------------------------------------

    async def create_user(self, username: str, password: str, role: Role) -> dict[str, Any]:
        body = {"username": username, "password": password, "role": role.value}
        return await self._call("POST", "/api/users", body=body)

    async def users(self) -> list[dict[str, Any]]:
        return _items(await self._call("GET", "/api/users"), "users")

    async def delete_user(self, username: str) -> dict[str, Any]:
        return await self._call("DELETE", f"/api/users/{quote(username, safe='')}")

    async def create_key(self, name: str, *, workspace: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"name": name}
        if workspace:
            body["workspace"] = workspace
        return await self._call("POST", "/api/keys", body=body)

    async def keys(self) -> list[dict[str, Any]]:
        return _items(await self._call("GET", "/api/keys"), "keys")

    async def revoke_key(self, key_id: str) -> dict[str, Any]:
        return await self._call("DELETE", f"/api/keys/{quote(key_id, safe='')}")


def _items(body: dict[str, Any], name: str) -> list[dict[str, Any]]:
    items = body.get(name)
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise GatewayError(200, "bad_response", f"The gateway's answer has no list of {name}.")
    return items
