"""What the MCP tools do, as a client of the gateway's public API (`ragis.client.api`).

The MCP server holds no data and no second copy of any rule: every tool is one or a few calls of
the API a script would make, with the caller's own key, so sign-in, workspace scope, limits and
the audit trail are the gateway's. This module turns the API's answers into the tools' typed
results; a refusal stays a `ragis.errors` error, which the server turns into a tool error.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from ragis.client.api import GatewayClient
from ragis.contract.search import MAX_PASSAGES_PER_READ
from ragis.errors import InvalidInput, NotFound, RagisError, TooLarge
from ragis.mcp.joining import join_passages
from ragis.mcp.models import (
    Answer,
    Citation,
    CollectionInfo,
    Collections,
    DocumentInfo,
    Documents,
    DocumentText,
    Ingested,
    Passage,
    PassageWindow,
    SearchResult,
    StoredPassage,
)

__all__ = ["DEFAULT_COLLECTION", "MAX_LISTED", "Backend", "document_uri"]

#: The collection of a call that names none (the gateway's own default for documents).
DEFAULT_COLLECTION = "default"
#: At most this many documents in one listing (a tool's answer, the resource list).
MAX_LISTED = 1_000


def document_uri(collection: str, doc_id: str) -> str:
    return f"ragis://documents/{quote(collection, safe='')}/{quote(doc_id, safe='')}"


class Backend:
    """The tools' calls on one gateway client. `upload_limit` is the gateway's largest upload
    in bytes; None: asked of the gateway (`/api/health`) the first time it is needed."""

    def __init__(self, client: GatewayClient, *, upload_limit: int | None = None) -> None:
        self.client = client
        self._upload_limit = upload_limit

    async def collections(self) -> Collections:
        items = await self.client.collections()
        return Collections(
            collections=[
                CollectionInfo(
                    name=str(c["name"]), documents=int(c["documents"]), passages=int(c["chunks"])
                )
                for c in items
            ]
        )

    async def documents(self, collection: str | None, *, limit: int = MAX_LISTED) -> Documents:
        """The documents of `collection`, or of every collection when None (at most `limit`)."""
        if collection is not None:
            names = [collection]
        else:
            names = [c.name for c in (await self.collections()).collections]
        listed: list[DocumentInfo] = []
        for name in names:
            for d in await self.client.documents(name):
                if len(listed) == limit:
                    return Documents(documents=listed, truncated=True)
                listed.append(_document_info(name, d))
        return Documents(documents=listed, truncated=False)

    async def search(
        self,
        query: str,
        *,
        collection: str | None,
        top_k: int,
        doc_ids: Sequence[str],
        tags: Sequence[str],
    ) -> SearchResult:
        body = await self.client.search(
            query, collection=collection, top_k=top_k, doc_ids=doc_ids, tags=tags
        )
        return SearchResult(
            collection=str(body["collection"]),
            query=str(body["query"]),
            grounded=bool(body["grounded"]),
            best_score=body.get("best_score"),
            partial=bool(body.get("partial", False)),
            passages=[
                Passage(
                    n=int(p["n"]),
                    document=str(p["filename"]),
                    doc_id=str(p["doc_id"]),
                    page=p.get("page"),
                    locator=p.get("locator"),
                    position=int(p["position"]),
                    score=float(p["score"]),
                    text=str(p["text"]),
                )
                for p in body["passages"]
            ],
        )

    async def ask(self, question: str, *, collection: str | None, doc_ids: Sequence[str]) -> Answer:
        """The answer of one stateless chat turn (no session is made), with its citations."""
        parts: list[str] = []
        meta: dict[str, Any] = {}
        citations: list[dict[str, Any]] = []
        events = self.client.chat(question, collection=collection, doc_ids=doc_ids, history=[])
        async for event, data in events:
            if event == "meta":
                meta = data
            elif event == "citations":
                citations = list(data.get("citations", []))
            elif event == "token":
                parts.append(str(data.get("text", "")))
            elif event == "error":
                raise RagisError(str(data.get("message", "The answer failed.")))
        return Answer(
            answer="".join(parts),
            citations=[
                Citation(
                    n=int(c["n"]),
                    document=str(c["filename"]),
                    doc_id=str(c["doc_id"]),
                    page=c.get("page"),
                    locator=c.get("locator"),
                    score=float(c["score"]),
                    text=str(c["text"]),
                )
                for c in citations
            ],
            grounded=meta.get("grounded", True) is not False,
            collection=str(meta.get("collection", collection or DEFAULT_COLLECTION)),
            cache_hit=bool(meta.get("cache_hit", False)),
        )

    async def passage_window(
        self, doc_id: str, position: int, *, collection: str | None, around: int
    ) -> PassageWindow:
        name = collection or DEFAULT_COLLECTION
        start = max(0, position - around)
        body = await self.client.document_passages(
            name, doc_id, start=start, limit=position - start + around + 1
        )
        total = int(body["total"])
        if position >= total:
            raise NotFound(
                f"The document {doc_id!r} has {total} passage(s), numbered from 0: there is no "
                f"passage {position}."
            )
        return PassageWindow(
            collection=name,
            doc_id=doc_id,
            document=str(body["document"]["filename"]),
            position=position,
            total=total,
            passages=[_stored(p) for p in body["passages"]],
        )

    async def document_text(
        self, doc_id: str, *, collection: str | None, offset: int, max_chars: int
    ) -> DocumentText:
        """`max_chars` of the document's text from `offset` on (its passages joined)."""
        name = collection or DEFAULT_COLLECTION
        texts: list[str] = []
        filename, total = "", 0
        # Read from the first passage on (offsets are in the joined text), only as far as needed.
        while True:
            body = await self.client.document_passages(
                name, doc_id, start=len(texts), limit=MAX_PASSAGES_PER_READ
            )
            filename, total = str(body["document"]["filename"]), int(body["total"])
            page = [str(p["text"]) for p in body["passages"]]
            texts += page
            if not page or len(texts) >= total:
                break
            # Stop once the joined text (at most the passages' sum) reaches past the piece.
            if sum(map(len, texts)) > offset + max_chars and (
                len(join_passages(texts)) > offset + max_chars
            ):
                break
        text = join_passages(texts)
        complete = len(texts) >= total
        end = offset + max_chars
        piece = text[offset:end]
        truncated = len(text) > end or not complete
        return DocumentText(
            collection=name,
            doc_id=doc_id,
            document=filename,
            offset=offset,
            text=piece,
            truncated=truncated,
            next_offset=offset + len(piece) if truncated else None,
            passages=total,
        )

    async def full_text(self, collection: str, doc_id: str) -> str:
        """The whole text of a document (for its resource)."""
        texts: list[str] = []
        while True:
            body = await self.client.document_passages(
                collection, doc_id, start=len(texts), limit=MAX_PASSAGES_PER_READ
            )
            page = [str(p["text"]) for p in body["passages"]]
            texts += page
            if not page or len(texts) >= int(body["total"]):
                return join_passages(texts)

    async def upload_limit(self) -> int:
        if self._upload_limit is None:
            health = await self.client.health()
            limits = health.get("limits")
            if not isinstance(limits, dict) or "max_upload_bytes" not in limits:
                raise RagisError("The gateway did not say how large an upload may be.")
            self._upload_limit = int(limits["max_upload_bytes"])
        return self._upload_limit

    async def ingest(
        self, filename: str, data: bytes, *, collection: str | None, tags: Sequence[str]
    ) -> Ingested:
        limit = await self.upload_limit()
        if len(data) > limit:
            raise TooLarge(
                f"{filename}: {len(data)} bytes, over the gateway's upload limit of {limit} "
                "bytes (RAGIS_MAX_UPLOAD_MB)."
            )
        name = collection or DEFAULT_COLLECTION
        result = await self.client.upload_bytes(filename, data, collection=name, tags=tags)
        if not result.get("ok"):
            error = result.get("error") or {}
            raise InvalidInput(str(error.get("message") or f"{filename}: the upload failed."))
        doc_id = str(result["document_id"])
        return Ingested(
            collection=name,
            document=str(result["filename"]),
            doc_id=doc_id,
            uri=document_uri(name, doc_id),
            passages=int(result["chunks"]),
            pages=result.get("pages"),
            duplicate=bool(result.get("duplicate", False)),
        )


def _document_info(collection: str, d: dict[str, Any]) -> DocumentInfo:
    doc_id = str(d["id"])
    return DocumentInfo(
        doc_id=doc_id,
        collection=collection,
        document=str(d["filename"]),
        uri=document_uri(collection, doc_id),
        pages=d.get("pages"),
        passages=int(d["chunks"]),
        size=int(d["size"]),
        created=float(d["created"]),
        status=str(d["status"]),
        tags=[str(t) for t in d.get("tags", [])],
    )


def _stored(p: dict[str, Any]) -> StoredPassage:
    return StoredPassage(
        position=int(p["position"]), page=p.get("page"), locator=p.get("locator"),
        text=str(p["text"]),
    )  # fmt: skip
