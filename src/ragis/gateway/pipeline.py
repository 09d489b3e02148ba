"""Ingesting one uploaded file: parse, chunk, hash, then one `/index` request to the RAG service.

    bytes -> parse_document (sniff the type, extract text per page)   child process   parse_ms
             (ragis.ingest.sandbox: limited memory, CPU and time)
          -> Chunker.chunk (token-aware, pages kept)                  worker thread   chunk_ms
          -> POST /index {document, chunks}  (the RAG service embeds
             them in batches and writes them in that one request)                     index_ms

Every stage is timed. Anything that goes wrong raises a ragis error and stores nothing: the RAG
service removes a half-indexed document itself. The display name is sanitised here and used only
as a label; the document id is a fresh uuid4 hex, so no client-chosen text becomes a key.

A caller may watch an ingest (`IngestWatcher`: each stage as it starts, then the chunks embedded
so far, from the streaming form of `/index`). Cancelled (the client left), the parse child is
killed or the `/index` request closed, and the RAG service keeps nothing of the document.

Once a new document is ready, its uploaded file is kept as its original when it is at most
`keep_originals_bytes` (RAGIS_KEEP_ORIGINALS_MB): for the viewer. Failing to keep it is logged;
the upload still succeeded.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
import uuid
from collections.abc import Sequence
from typing import Literal, Protocol

from ragis.contract import Caller, ChunkIn, DocumentIn, ErrorBody, IndexRequest
from ragis.contract.documents import MAX_LOCATOR_CHARS, MAX_SOURCE_CHARS
from ragis.errors import EmptyFile, RagisError
from ragis.gateway.rag_client import RagClient
from ragis.gateway.schemas import AttachmentIndexed, FileIndexed, UploadTimings
from ragis.ingest import Attachment, Chunk, Chunker, ParsedDocument, sanitize_filename
from ragis.ingest.sandbox import ParseSandbox
from ragis.obs import hooks
from ragis.timing import elapsed_ms

__all__ = ["IngestWatcher", "Pipeline", "Stage"]

log = logging.getLogger("ragis.gateway")

#: Where an ingest is: received, parsed, chunked, embedded (and written), finished.
Stage = Literal["upload", "parse", "chunk", "embed", "done"]


class IngestWatcher(Protocol):
    """Told how one file's ingest goes (the SSE form of an upload)."""

    def stage(self, stage: Stage) -> None: ...

    def embedded(self, done: int, total: int) -> None: ...


class _Silent:
    """A watcher told nothing it passes on (an attachment's progress is not its upload's)."""

    def stage(self, stage: Stage) -> None:
        pass

    def embedded(self, done: int, total: int) -> None:
        pass


_SILENT = _Silent()


class Pipeline:
    def __init__(
        self,
        rag: RagClient,
        chunker: Chunker,
        sandbox: ParseSandbox,
        *,
        keep_originals_bytes: int = 0,
    ) -> None:
        self._rag = rag
        self._chunker = chunker
        self._sandbox = sandbox
        self._keep_originals = keep_originals_bytes

    @property
    def chunker(self) -> Chunker:
        """The chunker, its tokenizer loaded at start (the OpenAI API counts usage with it)."""
        return self._chunker

    async def ingest(
        self,
        data: bytes,
        filename: str,
        *,
        collection: str,
        caller: Caller,
        tags: Sequence[str] = (),
        source: str | None = None,
        replaces: str | None = None,
        attachments: bool = True,
        watch: IngestWatcher | None = None,
    ) -> FileIndexed:
        """Index one file into `collection` of `caller`'s workspace; returns the upload's answer
        for it. `source` is where the file came from (a synced folder's relative path, a URL);
        `replaces` the id of a ready document this one retires once it is ready. Raises a
        `FileRejected` error for a file ragis cannot read, `RagAnswerError` / `UpstreamError`
        when the RAG service refuses or fails."""
        started = time.perf_counter()
        name = sanitize_filename(filename)
        if watch is not None:
            watch.stage("parse")
        # Untrusted bytes are parsed in a child process only: the gateway never runs a parser.
        parsed = await self._sandbox.parse(data, name)
        sha256 = await asyncio.to_thread(_sha256, data)
        parse_ms = elapsed_ms(started)

        t = time.perf_counter()
        if watch is not None:
            watch.stage("chunk")
        chunks = await asyncio.to_thread(self._chunker.chunk, parsed)
        chunk_ms = elapsed_ms(t)
        hooks.parsed(parse_ms=parse_ms, chunk_ms=chunk_ms)  # metrics and spans (ragis.obs)
        if not chunks:
            raise EmptyFile(name, "there is no text in this file")

        t = time.perf_counter()
        request = _index_request(
            collection, name, data, sha256, parsed, chunks, tags, source, replaces
        )
        if watch is None:
            indexed = await self._rag.index(request, caller)
        else:
            watch.stage("embed")
            indexed = await self._rag.index_stream(request, caller, watch.embedded)
        index_ms = elapsed_ms(t)
        if not indexed.duplicate:
            await self._keep_original(collection, indexed.document_id, data, parsed, caller)
        carried = [
            await self._attachment(a, source or name, collection=collection, caller=caller,
                                   tags=tags, watched=watch is not None)
            for a in (parsed.attachments if attachments else ())
        ]  # fmt: skip
        return FileIndexed(
            filename=name,
            document_id=indexed.document_id,
            chunks=indexed.chunks,
            pages=parsed.page_count,
            size=len(data),
            content_type=parsed.content_type,
            duplicate=indexed.duplicate,
            retired=indexed.retired,
            warnings=list(parsed.warnings),
            attachments=carried,
            timings=UploadTimings(
                parse_ms=parse_ms,
                chunk_ms=chunk_ms,
                index_ms=index_ms,
                total_ms=elapsed_ms(started),
            ),
        )

    async def _keep_original(
        self, collection: str, doc_id: str, data: bytes, parsed: ParsedDocument, caller: Caller
    ) -> None:
        """Keep the uploaded bytes for the viewer, if small enough; a failure costs the viewer
        its page view of this document, never the upload (logged, not raised)."""
        if len(data) > self._keep_originals:
            return
        try:
            await self._rag.put_original(collection, doc_id, data, parsed.content_type, caller)
        except Exception as exc:
            log.warning(
                "could not keep the original of %s/%s (%d bytes): %s",
                collection, doc_id, len(data), getattr(exc, "message", type(exc).__name__),
            )  # fmt: skip

    async def _attachment(
        self,
        attachment: Attachment,
        parent: str,
        *,
        collection: str,
        caller: Caller,
        tags: Sequence[str],
        watched: bool = False,
    ) -> AttachmentIndexed:
        """One file carried by an upload, ingested as its own document (parsed in the sandbox
        like any upload; its own attachments are not followed: one level, no recursion). When
        the upload is watched, so is the attachment, silently: its `/index` is the streaming
        one, which a client that leaves cancels."""
        name = sanitize_filename(attachment.name)
        try:
            indexed = await self.ingest(
                attachment.data, attachment.name, collection=collection, caller=caller,
                tags=tags, source=f"{parent}#{name}"[:MAX_SOURCE_CHARS], attachments=False,
                watch=_SILENT if watched else None,
            )  # fmt: skip
        except RagisError as exc:
            return AttachmentIndexed(
                filename=name, ok=False, error=ErrorBody(code=exc.code, message=exc.message)
            )
        return AttachmentIndexed(
            filename=indexed.filename,
            ok=True,
            document_id=indexed.document_id,
            chunks=indexed.chunks,
            duplicate=indexed.duplicate,
        )


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _chunk_in(chunk: Chunk) -> ChunkIn:
    """A chunk without a page or locator leaves them unset, so they are not sent."""
    fields: dict[str, str | int] = {"text": chunk.text, "position": chunk.position}
    if chunk.page:
        fields["page"] = chunk.page
    if chunk.locator:
        fields["locator"] = chunk.locator[:MAX_LOCATOR_CHARS]
    return ChunkIn.model_validate(fields)


def _index_request(
    collection: str,
    name: str,
    data: bytes,
    sha256: str,
    parsed: ParsedDocument,
    chunks: Sequence[Chunk],
    tags: Sequence[str],
    source: str | None = None,
    replaces: str | None = None,
) -> IndexRequest:
    """The `/index` body; a chunk without a page leaves `page` unset, so it is not sent."""
    return IndexRequest(
        collection=collection,
        replaces=replaces,
        document=DocumentIn(
            id=uuid.uuid4().hex,
            filename=name,
            content_type=parsed.content_type,
            sha256=sha256,
            size=len(data),
            pages=parsed.page_count,
            tags=list(tags),
            source=source,
        ),
        chunks=[_chunk_in(c) for c in chunks],
    )
