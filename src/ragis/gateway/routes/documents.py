"""Uploading documents, and listing, reading and deleting them (through the RAG service), in the
request's workspace: viewers list and read, editors upload and delete."""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from ragis.contract import ID_PATTERN as LONG_ID
from ragis.contract import NAME_PATTERN as NAME
from ragis.contract import DocumentSourceUpdate, DocumentUpdate
from ragis.contract.documents import MAX_SOURCE_CHARS, comma_tags
from ragis.errors import InvalidInput, InvalidName, RagisError
from ragis.gateway import audit_trail
from ragis.gateway.audit_trail import Action
from ragis.gateway.deps import PipelineDep, RagDep, SettingsDep
from ragis.gateway.identity import EditorDep, ViewerDep
from ragis.gateway.pipeline import IngestWatcher
from ragis.gateway.rag_client import RagAnswerError
from ragis.gateway.schemas import (
    DocumentDeleted,
    DocumentPublic,
    DocumentsPublic,
    ErrorBody,
    ErrorPublic,
    FileFailed,
    UploadEvent,
    UploadPublic,
)
from ragis.gateway.upload_stream import (
    Outcome,
    upload_answer,
    upload_events,
    wants_events,
)
from ragis.gateway.uploads import UploadedFile, read_upload
from ragis.ingest import sanitize_filename
from ragis.web.errors import status_for
from ragis.web.openapi import json_answer
from ragis.web.sse import EventStreamResponse

router = APIRouter(prefix="/api/documents", tags=["documents"])

log = logging.getLogger("ragis.gateway")


UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {
                        "type": "array",
                        "minItems": 1,
                        "items": {"type": "string", "format": "binary"},
                        "description": "One part per file: PDF, DOCX, HTML, Markdown or text.",
                    },
                    "collection": {"type": "string", "default": "default", "pattern": NAME},
                    "tags": {"type": "string", "description": "Comma-separated tags."},
                    "source": {
                        "type": "string",
                        "maxLength": MAX_SOURCE_CHARS,
                        "description": "Where the file came from (a synced folder's relative "
                        "path, a URL); only with one file. A duplicate (the same bytes already "
                        "ready) keeps the existing document and its source.",
                    },
                    "replaces": {
                        "type": "string",
                        "pattern": LONG_ID,
                        "description": "The id of a ready document of the collection that this "
                        "file replaces: answered until the new one is ready, then removed.",
                    },
                },
            }
        }
    },
}

UPLOAD_DOC = """Each file is read, chunked and indexed on its own: a file that fails stores
nothing and does not stop the others. Status 200 when at least one file was indexed (look at
each result's `ok`); when every file failed, the status of the first failure (413, 415 or 422)
with a top-level `error`. A request over RAGIS_MAX_UPLOAD_MB or RAGIS_MAX_FILES_PER_UPLOAD is
refused with 413 as soon as that is known, before the rest of the body is read.

With `Accept: text/event-stream` (after the same checks, which still answer JSON errors), the
answer is a 200 stream of Server-Sent Events for each file in turn: `stage` (upload, parse,
chunk, embed, done), `progress` after each embedded batch (chunks embedded, total, an estimate
of the time left), `file` (its result), then `done` with the whole answer; a comment `: ping`
every RAGIS_SSE_HEARTBEAT seconds of quiet. Closing the stream cancels the file in progress:
nothing of it is stored."""


@router.post(
    "/upload",
    response_class=EventStreamResponse,
    response_model=None,
    responses={
        # The events' model goes to the response class's media type (the stream's).
        200: {
            "model": UploadEvent,
            "description": "The upload's answer (JSON); with `Accept: text/event-stream`, its "
            "events, each `data:` line an UploadEvent.",
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/UploadPublic"}},
                # Each event's `data:` line (FastAPI would say "string", the stream's type).
                "text/event-stream": {"schema": {"type": "object"}},
            },
        },
        # A refused request (too large, not a form, a bad field) is an ErrorPublic; every file
        # refused one by one is an UploadPublic with its results and a top-level `error`.
        413: json_answer("Too large, or every file too large", UploadPublic, ErrorPublic),
        # JSON, whatever the route's response class (the stream's) would say.
        415: json_answer("Every file of a type ragis cannot read", UploadPublic),
        422: json_answer("Every file corrupt or empty; a bad form", UploadPublic, ErrorPublic),
        503: json_answer("The RAG service does not answer", ErrorPublic),
    },
    openapi_extra={"requestBody": UPLOAD_BODY},
    summary="Upload one or more documents into a collection",
    description=UPLOAD_DOC,
)
async def upload(
    request: Request, settings: SettingsDep, pipeline: PipelineDep, access: EditorDep
) -> JSONResponse | EventStreamResponse:
    form = await read_upload(
        request, max_bytes=settings.max_upload_bytes, max_files=settings.max_files_per_upload
    )
    collection = _collection(form.value("collection"))
    tags = _tags(form.value("tags"))
    source = _source(form.value("source"))
    replaces = _replaces(form.value("replaces"))
    if not form.files:
        raise InvalidInput("The upload holds no file: send one or more `file` parts.")
    if (source is not None or replaces is not None) and len(form.files) > 1:
        raise InvalidInput("`source` and `replaces` name one file: send one `file` part with them.")

    async def ingest(index: int, upload: UploadedFile, watch: IngestWatcher | None) -> Outcome:
        try:
            indexed = await pipeline.ingest(
                upload.data, upload.filename, collection=collection, caller=access.caller,
                tags=tags, source=source, replaces=replaces, watch=watch,
            )  # fmt: skip
        except Exception as exc:
            status, error = _failure(exc)
            return FileFailed(
                filename=sanitize_filename(upload.filename), ok=False, error=error
            ), status
        return indexed, 200

    if wants_events(request.headers.get("accept")):
        # The request's own checks above answered JSON; from here on, events.
        names = [sanitize_filename(f.filename) for f in form.files]
        return EventStreamResponse(
            upload_events(collection, form.files, names, ingest, heartbeat=settings.sse_heartbeat)
        )
    # One file after the other: files of one request never race each other (a file sent twice
    # in one request is a duplicate the second time), and memory holds one parse at a time.
    outcomes = [await ingest(i, upload, None) for i, upload in enumerate(form.files)]
    answer, status = upload_answer(collection, outcomes)
    return JSONResponse(
        answer.model_dump(mode="json", exclude={"error"} if status == 200 else None),
        status_code=status,
    )


@router.get(
    "",
    response_model=None,  # the RAG service's answer, unfiltered
    responses={
        200: {"model": DocumentsPublic},
        422: {"model": ErrorPublic},
        503: {"model": ErrorPublic},
    },
    summary="The documents of a collection, oldest first",
    description="A collection that does not exist (yet) has no documents: 200 with an empty list.",
)
async def list_documents(
    rag: RagDep,
    access: ViewerDep,
    collection: str = Query("default", pattern=NAME),
    source: str | None = Query(
        None,
        min_length=1,
        max_length=MAX_SOURCE_CHARS,
        description="Only the ready document with this exact source.",
    ),
) -> dict[str, Any]:
    try:
        return await rag.list_documents(collection, access.caller, source=source)
    except RagAnswerError as exc:
        if exc.status == 404:
            return {"collection": collection, "documents": []}
        raise


@router.get(
    "/{doc_id}",
    response_model=None,  # the RAG service's answer, unfiltered
    responses={
        200: {"model": DocumentPublic},
        404: {"model": ErrorPublic},
        503: {"model": ErrorPublic},
    },
    summary="One document's record",
)
async def get_document(
    rag: RagDep,
    access: ViewerDep,
    doc_id: str = Path(pattern=LONG_ID),
    collection: str = Query("default", pattern=NAME),
) -> dict[str, Any]:
    return await rag.get_document(collection, doc_id, access.caller)


@router.delete(
    "/{doc_id}",
    response_model=None,  # the RAG service's answer, unfiltered
    responses={
        200: {"model": DocumentDeleted},
        404: {"model": ErrorPublic},
        503: {"model": ErrorPublic},
    },
    summary="Remove a document: its record, chunks and vectors",
)
async def delete_document(
    request: Request,
    rag: RagDep,
    access: EditorDep,
    doc_id: str = Path(pattern=LONG_ID),
    collection: str = Query("default", pattern=NAME),
) -> dict[str, Any]:
    deleted = await rag.delete_document(collection, doc_id, access.caller)  # a refusal raises
    await audit_trail.record(
        request,
        Action.DOCUMENT_DELETED,
        access.identity,
        f"{collection}/{doc_id}",
        workspace=access.workspace,
    )
    return deleted


@router.patch(
    "/{doc_id}",
    response_model=None,  # the RAG service's answer, unfiltered
    responses={
        200: {"model": DocumentPublic},
        404: {"model": ErrorPublic},
        409: {"model": ErrorPublic},
        422: {"model": ErrorPublic},
        503: {"model": ErrorPublic},
    },
    summary="Change a document's source and/or tags: no re-embedding",
    description="`source`: a synced file moved (409 `source_taken` if another ready document "
    "has it). `tags`: the document's whole new list (as an upload's: at most 32, 1 to 64 "
    "characters each); a search's `filter.tags` finds it by them at once and by the old ones "
    "no more. At least one of the two. Audited as `document_renamed` / "
    "`document_tags_changed`.",
)
async def update_document(
    request: Request,
    body: DocumentUpdate,
    rag: RagDep,
    access: EditorDep,
    doc_id: str = Path(pattern=LONG_ID),
    collection: str = Query("default", pattern=NAME),
) -> dict[str, Any]:
    updated = await rag.update_document(collection, doc_id, body, access.caller)
    target = f"{collection}/{doc_id}"
    if body.source is not None:
        await audit_trail.record(
            request, Action.DOCUMENT_RENAMED, access.identity, target, workspace=access.workspace
        )
    if body.tags is not None:
        await audit_trail.record(
            request,
            Action.DOCUMENT_TAGS_CHANGED,
            access.identity,
            target,
            workspace=access.workspace,
        )
    return updated


def _failure(exc: Exception) -> tuple[int, ErrorBody]:
    """The status and error of one file's failure."""
    if isinstance(exc, RagAnswerError):
        return exc.status, ErrorBody(code=exc.code, message=exc.message)
    if isinstance(exc, RagisError):
        return status_for(exc), ErrorBody(code=exc.code, message=exc.message)
    log.exception("ingesting an upload failed")
    message = "ragis hit an unexpected error reading this file; see the gateway log."
    return 500, ErrorBody(code="internal_error", message=message)


def _collection(value: str | None) -> str:
    name = (value or "").strip() or "default"
    if not re.match(NAME, name):
        raise InvalidName(
            f"{name[:80]!r} is not a collection name: use up to 64 letters, digits, '_', '.' "
            "or '-', starting with a letter or digit."
        )
    return name


def _tags(value: str | None) -> list[str]:
    try:
        return comma_tags(value or "")
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


def _source(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    try:
        return DocumentSourceUpdate(source=value).source
    except ValidationError:
        raise InvalidInput(
            f"`source` must be 1 to {MAX_SOURCE_CHARS} characters of text."
        ) from None


def _replaces(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if not re.fullmatch(LONG_ID, value):
        raise InvalidInput("`replaces` is not a document id.")
    return value
