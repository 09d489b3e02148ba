"""A document's original file, kept for the viewer (store/originals.py), in the workspace the
gateway names: the gateway PUTs the uploaded bytes after a successful index, and GETs them for
`GET /api/collections/{c}/documents/{id}/original`.

The body is the file itself (its `Content-Type` header is the file's type), at most
RAGIS_KEEP_ORIGINALS_MB: a larger declared `Content-Length` is refused before a byte is read,
and a body that runs past the limit is refused as soon as it does, never read whole first.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Header, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel

from ragis.contract.documents import ORIGINAL_FILENAME_HEADER, ORIGINAL_TYPE_PATTERN
from ragis.errors import InvalidInput, NotFound, TooLarge
from ragis.rag.deps import SettingsDep, WorkspaceStoreDep
from ragis.rag.schemas import ErrorPublic
from ragis.store import DocumentStatus
from ragis.store.keys import ID_PATTERN as LONG_ID
from ragis.store.keys import NAME_PATTERN as NAME
from ragis.web.openapi import json_error

__all__ = ["OriginalKept", "router"]

router = APIRouter(tags=["originals"])


class OriginalKept(BaseModel):
    collection: str
    document_id: str
    size: int


@router.put(
    "/collections/{name}/documents/{doc_id}/original",
    response_model=OriginalKept,
    responses={
        404: json_error("No such collection, or no such ready document.", ErrorPublic),
        413: json_error("Over RAGIS_KEEP_ORIGINALS_MB (or keeping originals is off).", ErrorPublic),
        422: json_error("An empty body, or a malformed Content-Type.", ErrorPublic),
    },
    summary="Keep a ready document's original file (the body, as it was uploaded)",
)
async def put_original(
    request: Request,
    store: WorkspaceStoreDep,
    settings: SettingsDep,
    content_type: Annotated[
        str, Header(alias="Content-Type", pattern=ORIGINAL_TYPE_PATTERN, max_length=200)
    ],
    name: str = Path(pattern=NAME),
    doc_id: str = Path(pattern=LONG_ID),
) -> OriginalKept:
    limit = settings.keep_originals_bytes
    if limit == 0:
        raise TooLarge("Originals are not kept here (RAGIS_KEEP_ORIGINALS_MB=0).")
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise TooLarge(_over(limit))
    # Before reading the body: a forged id or a document not ready costs no upload.
    await store.collections.require(name)
    record = await store.documents.require(name, doc_id)
    if record.status is not DocumentStatus.READY:
        raise NotFound(f"The document {doc_id!r} of collection {name!r} is not ready.")
    data = bytearray()
    async for part in request.stream():
        data += part
        if len(data) > limit:
            raise TooLarge(_over(limit))
    if not data:
        raise InvalidInput("An original has at least one byte.")
    await store.originals.put(name, doc_id, bytes(data), content_type)
    return OriginalKept(collection=name, document_id=doc_id, size=len(data))


@router.get(
    "/collections/{name}/documents/{doc_id}/original",
    response_class=Response,
    responses={
        200: {
            "description": "The file's bytes, with its content type; "
            f"`{ORIGINAL_FILENAME_HEADER}` names its file (percent-encoded UTF-8).",
            "content": {"application/octet-stream": {}},
        },
        404: json_error("No such document, or its original was not kept.", ErrorPublic),
    },
    summary="A document's original file",
)
async def get_original(
    store: WorkspaceStoreDep,
    name: str = Path(pattern=NAME),
    doc_id: str = Path(pattern=LONG_ID),
) -> Response:
    record = await store.documents.require(name, doc_id)
    original = await store.originals.get(name, doc_id)
    if original is None or record.status is not DocumentStatus.READY:
        raise NotFound(
            f"The original file of {record.filename!r} was not kept (larger than "
            "RAGIS_KEEP_ORIGINALS_MB when uploaded, or uploaded while keeping was off): its "
            "text is still readable as passages."
        )
    return Response(
        content=original.data,
        media_type=original.content_type,
        headers={
            ORIGINAL_FILENAME_HEADER: quote(record.filename, safe=""),
            "X-Content-Type-Options": "nosniff",
        },
    )


def _over(limit: int) -> str:
    return (
        f"The original is over {limit // (1024 * 1024)} MiB, the most ragis keeps "
        "(RAGIS_KEEP_ORIGINALS_MB)."
    )
