"""A document's original file (kept at upload up to RAGIS_KEEP_ORIGINALS_MB), for the web UI's
viewer: viewers of the workspace read it.

The bytes are a user's upload, served from the app's own origin: the answer names their type
with `nosniff` (a browser never takes a text file for HTML), is `inline` with the file's name,
and carries a `sandbox` policy of its own, so that an HTML or SVG original opened directly
runs no script and reaches nothing of the app (an opaque origin: no cookie, no API).
"""

from __future__ import annotations

import re
from urllib.parse import quote

from fastapi import APIRouter, Path
from fastapi.responses import Response

from ragis.contract import ID_PATTERN as LONG_ID
from ragis.contract import NAME_PATTERN as NAME
from ragis.contract.documents import ORIGINAL_TYPE_PATTERN
from ragis.gateway.deps import RagDep
from ragis.gateway.identity import ViewerDep
from ragis.gateway.schemas import ErrorPublic
from ragis.web.openapi import json_error

__all__ = ["ORIGINAL_POLICY", "router"]

router = APIRouter(prefix="/api/collections", tags=["collections"])

#: The answer's own Content-Security-Policy (the app's would let a script of the app's origin
#: run): no script, no subresource, no form, an origin of its own.
ORIGINAL_POLICY = "sandbox; default-src 'none'; frame-ancestors 'none'"

_TYPE = re.compile(ORIGINAL_TYPE_PATTERN)


@router.get(
    "/{name}/documents/{doc_id}/original",
    response_class=Response,
    responses={
        200: {
            "description": "The uploaded file's bytes, with their content type.",
            "content": {"application/octet-stream": {}},
        },
        404: json_error(
            "No such collection or document in the workspace, or its original was not kept "
            "(the message says which).",
            ErrorPublic,
        ),
        503: {"model": ErrorPublic},
    },
    summary="A document's original file",
    description="The file as it was uploaded, when it was kept (at most RAGIS_KEEP_ORIGINALS_MB; "
    "the document's `original` says whether). Served inline with its type, "
    "`X-Content-Type-Options: nosniff` and a `sandbox` Content-Security-Policy.",
)
async def document_original(
    rag: RagDep,
    access: ViewerDep,
    name: str = Path(pattern=NAME),
    doc_id: str = Path(pattern=LONG_ID),
) -> Response:
    original = await rag.get_original(name, doc_id, access.caller)
    content_type = original.content_type.strip()
    if not _TYPE.fullmatch(content_type):
        content_type = "application/octet-stream"
    filename = original.filename or doc_id
    return Response(
        content=original.data,
        media_type=content_type,
        headers={
            "Content-Disposition": f"inline; filename*=UTF-8''{quote(filename, safe='')}",
            "Content-Security-Policy": ORIGINAL_POLICY,
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-cache",
        },
    )
