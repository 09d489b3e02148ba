"""The ragis MCP server: its tools and resources, on the official MCP SDK (`MCPServer`).

`build_server(connect)` does no I/O. Each tool asks `connect(request)` for a `Backend` (a client
of the gateway's API) for the MCP request it serves: `request` is the HTTP request on Streamable
HTTP (the gateway's `/mcp` builds a client with its caller's credentials from it), None on stdio
(`ragis mcp` hands out the one client it made from the settings).

A refusal of the gateway (an unknown collection, a forged id, a query over the limits, no
rights) reaches the client as a tool error (`isError: true`) with the gateway's own sentence; a
tool's arguments are checked against its JSON schema before anything is sent.

Documents are also resources: `ragis://documents/{collection}/{doc_id}` reads a document's
text, and `resources/list` lists the caller's documents (the first `MAX_LISTED`).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Annotated, Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError, ToolError
from mcp.shared.exceptions import MCPError
from mcp_types import INTERNAL_ERROR, ListResourcesResult, Resource, ToolAnnotations
from pydantic import Field
from starlette.requests import Request

from ragis import __version__
from ragis.contract import JsonInt, LongId, Name, Tag
from ragis.errors import InvalidInput, NotFound, RagisError
from ragis.mcp.backend import MAX_LISTED, Backend
from ragis.mcp.models import (
    Answer,
    Collections,
    Documents,
    DocumentText,
    Ingested,
    PassageWindow,
    SearchResult,
)

__all__ = ["Connect", "build_server"]

#: A `Backend` for the MCP request being served (its HTTP request; None on stdio).
Connect = Callable[[Request | None], AbstractAsyncContextManager[Backend]]

INSTRUCTIONS = (
    "ragis answers questions from the user's own documents. Use `search` to find passages "
    "(then `get_passage` or `get_document` to read around them), or `ask` for an answer written "
    "from the documents with numbered citations. `list_collections` and `list_documents` show "
    "what there is; `ingest` adds a document from text or base64 bytes."
)

#: The most characters `get_document` returns at once.
MAX_DOCUMENT_CHARS = 200_000
READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)

Query = Annotated[
    str,
    Field(
        min_length=1,
        description="What to look for: a question or keywords (exact words such as error codes "
        "and names are matched too).",
    ),
]
CollectionArg = Annotated[
    Name | None,
    Field(description="The collection to use; leave out for the default one."),
]
TopK = Annotated[JsonInt, Field(ge=1, le=50, description="How many passages to return (1-50).")]
DocIds = Annotated[
    list[LongId],
    Field(max_length=100, description="Only passages of these documents (their doc_id)."),
]
Tags = Annotated[
    list[Tag], Field(max_length=32, description="Only passages of documents with these tags.")
]
DocId = Annotated[LongId, Field(description="The document's doc_id (from search or a listing).")]
Position = Annotated[
    JsonInt, Field(ge=0, description="The passage's position in its document, from 0.")
]
Around = Annotated[
    JsonInt, Field(ge=0, le=10, description="How many passages before and after it to include.")
]
MaxChars = Annotated[
    JsonInt,
    Field(ge=1, le=MAX_DOCUMENT_CHARS, description="The most characters of text to return."),
]
Offset = Annotated[
    JsonInt, Field(ge=0, description="Where to start in the document's text (a next_offset).")
]
Filename = Annotated[
    str,
    Field(
        min_length=1,
        max_length=255,
        description="The document's file name; its extension says how to read it (.md, .txt, "
        ".html, .pdf, .docx).",
    ),
]
Content = Annotated[str | None, Field(description="The document as text (for .txt, .md, .html).")]
ContentBase64 = Annotated[
    str | None,
    Field(description="The file's bytes in base64 (for .pdf, .docx, or any file)."),
]
IngestTags = Annotated[list[Tag], Field(max_length=32, description="Tags to file it under.")]


@asynccontextmanager
async def _refusals() -> AsyncIterator[None]:
    """A refusal of the gateway as a tool error, with its sentence."""
    try:
        yield
    except RagisError as exc:
        raise ToolError(exc.message) from None


def _request(ctx: Context) -> Request | None:
    request = ctx.request_context.request
    return request if isinstance(request, Request) else None


def build_server(connect: Connect) -> MCPServer:
    server: MCPServer = MCPServer(
        "ragis",
        title="ragis",
        description="Search, read and ask questions of your documents in ragis.",
        instructions=INSTRUCTIONS,
        version=__version__,
        log_level="WARNING",
    )

    @server.tool(annotations=READ_ONLY, structured_output=True)
    async def search(
        query: Query,
        ctx: Context,
        collection: CollectionArg = None,
        top_k: TopK = 5,
        doc_ids: DocIds = [],  # noqa: B006 - the SDK copies defaults; the schema shows []
        tags: Tags = [],  # noqa: B006
    ) -> SearchResult:
        """Find the passages of the documents closest to a query, best first, by meaning and by
        words (no answer is written: read them yourself). Each passage has its document, doc_id,
        page, position and score (0..1); `grounded` false means none is really close."""
        async with _refusals(), connect(_request(ctx)) as backend:
            return await backend.search(
                query, collection=collection, top_k=top_k, doc_ids=doc_ids, tags=tags
            )

    @server.tool(annotations=READ_ONLY, structured_output=True)
    async def ask(
        question: Annotated[str, Field(min_length=1, description="The question to answer.")],
        ctx: Context,
        collection: CollectionArg = None,
        doc_ids: DocIds = [],  # noqa: B006
    ) -> Answer:
        """Answer a question from the documents: ragis finds the passages and its language
        model writes an answer citing them as [n]; the citations carry the document, page,
        score and text. When the documents do not hold the answer, it says so (grounded
        false)."""
        async with _refusals(), connect(_request(ctx)) as backend:
            return await backend.ask(question, collection=collection, doc_ids=doc_ids)

    @server.tool(annotations=READ_ONLY, structured_output=True)
    async def list_collections(ctx: Context) -> Collections:
        """The collections of the workspace, with how many documents and passages each has."""
        async with _refusals(), connect(_request(ctx)) as backend:
            return await backend.collections()

    @server.tool(annotations=READ_ONLY, structured_output=True)
    async def list_documents(
        ctx: Context,
        collection: Annotated[
            Name | None,
            Field(description="Only this collection's documents; leave out for every collection."),
        ] = None,
    ) -> Documents:
        """The documents (doc_id, file name, collection, pages, passages, tags), oldest first;
        at most 1,000."""
        async with _refusals(), connect(_request(ctx)) as backend:
            return await backend.documents(collection)

    @server.tool(annotations=READ_ONLY, structured_output=True)
    async def get_passage(
        doc_id: DocId,
        position: Position,
        ctx: Context,
        collection: CollectionArg = None,
        around: Around = 1,
    ) -> PassageWindow:
        """Read one passage of a document (a search result's or a citation's doc_id and
        position) with its neighbours, in order."""
        async with _refusals(), connect(_request(ctx)) as backend:
            return await backend.passage_window(
                doc_id, position, collection=collection, around=around
            )

    @server.tool(annotations=READ_ONLY, structured_output=True)
    async def get_document(
        doc_id: DocId,
        ctx: Context,
        collection: CollectionArg = None,
        max_chars: MaxChars = 20_000,
        offset: Offset = 0,
    ) -> DocumentText:
        """Read a document's text, rebuilt from its passages in order. A long document comes in
        pieces: while `truncated` is true, call again with `offset` = `next_offset`."""
        async with _refusals(), connect(_request(ctx)) as backend:
            return await backend.document_text(
                doc_id, collection=collection, offset=offset, max_chars=max_chars
            )

    @server.tool(annotations=ToolAnnotations(destructive_hint=False), structured_output=True)
    async def ingest(
        filename: Filename,
        ctx: Context,
        text: Content = None,
        content_base64: ContentBase64 = None,
        collection: CollectionArg = None,
        tags: IngestTags = [],  # noqa: B006
    ) -> Ingested:
        """Add a document to a collection, from its text or its bytes in base64 (exactly one):
        it is read, cut into passages and indexed, then searchable at once. The server never
        reads a path of its own: send the content. Needs editor rights in the workspace."""
        data = _content(text, content_base64)
        async with _refusals(), connect(_request(ctx)) as backend:
            return await backend.ingest(filename, data, collection=collection, tags=tags)

    @server.resource(
        "ragis://documents/{collection}/{doc_id}",
        name="document",
        description="A document's text, rebuilt from its passages.",
        mime_type="text/plain",
    )
    async def document(collection: str, doc_id: str, ctx: Context) -> str:
        try:
            async with connect(_request(ctx)) as backend:
                return await backend.full_text(collection, doc_id)
        except (NotFound, InvalidInput) as exc:
            raise ResourceNotFoundError(exc.message) from None
        except RagisError as exc:
            raise ResourceError(exc.message) from None

    async def list_resources(
        ctx: ServerRequestContext[Any, Any], call_next: CallNext
    ) -> HandlerResult:
        # MCPServer lists only resources registered up front; the documents are the caller's,
        # found at the time of asking.
        if ctx.method != "resources/list":
            return await call_next(ctx)
        request = ctx.request if isinstance(ctx.request, Request) else None
        try:
            async with connect(request) as backend:
                listed = await backend.documents(None, limit=MAX_LISTED)
        except RagisError as exc:
            raise MCPError(code=INTERNAL_ERROR, message=exc.message) from None
        return ListResourcesResult(
            resources=[
                Resource(
                    uri=d.uri,
                    name=d.document,
                    title=f"{d.document} ({d.collection})",
                    description=f"{d.passages} passage(s)"
                    + (f", {d.pages} pages" if d.pages else ""),
                    mime_type="text/plain",
                )
                for d in listed.documents
            ]
        )

    server.middleware.append(list_resources)
    return server


def _content(text: str | None, content_base64: str | None) -> bytes:
    """The document's bytes from exactly one of `text` and `content_base64`."""
    if (text is None) == (content_base64 is None):
        raise ToolError("Send the document as exactly one of `text` or `content_base64`.")
    if text is not None:
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError:
            raise ToolError("`text` holds a lone surrogate, which is not a character.") from None
    assert content_base64 is not None
    try:
        return base64.b64decode(content_base64, validate=True)
    except (binascii.Error, ValueError):
        raise ToolError(
            "`content_base64` is not valid base64 (RFC 4648: A-Z a-z 0-9 + /, padded with =)."
        ) from None
