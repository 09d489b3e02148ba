"""Ingesting a web page by its URL: the gateway fetches it (behind the SSRF guard of
`ragis.gateway.fetch`) and ingests it as an upload, with the URL as the document's source."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import Field

from ragis.contract import NAME_PATTERN as NAME
from ragis.contract import Strict, Text
from ragis.contract.documents import MAX_TAGS, EditTag
from ragis.gateway.deps import PipelineDep, SettingsDep
from ragis.gateway.fetch import AddressGuard, FetchLimits, PageFetcher
from ragis.gateway.fetch.fetcher import MAX_URL_CHARS
from ragis.gateway.identity import EditorDep
from ragis.gateway.schemas import ErrorPublic, FileIndexed

__all__ = ["UrlIngest", "router"]

router = APIRouter(prefix="/api/documents", tags=["documents"])


class UrlIngest(Strict):
    url: Text = Field(
        min_length=1,
        max_length=MAX_URL_CHARS,
        description="An http:// or https:// URL of a page or of a file of a supported type.",
    )
    collection: Text = Field(default="default", pattern=NAME)
    # As an upload's or an edit's: a tag no filter could find (a backslash) is refused.
    tags: list[EditTag] = Field(default_factory=list, max_length=MAX_TAGS)


URL_DOC = """The gateway fetches the page and ingests it like an uploaded file: an HTML page
keeps its visible text and is named after its `<title>`; the URL becomes the document's
`source`. Fetching the same unchanged page again is a `duplicate`. Only http and https, no
credentials in the URL, at most 5 redirects, RAGIS_MAX_UPLOAD_MB and RAGIS_URL_TIMEOUT. Every
address the host resolves to, at every redirect, must be public: loopback, private, link-local,
metadata and reserved addresses are refused (422 `url_refused`) unless RAGIS_URL_ALLOW_PRIVATE
allows loopback and private ones."""


@router.post(
    "/url",
    response_model=FileIndexed,
    responses={
        413: {"model": ErrorPublic, "description": "The page is over RAGIS_MAX_UPLOAD_MB"},
        415: {"model": ErrorPublic, "description": "Not a type ragis reads"},
        422: {"model": ErrorPublic, "description": "A refused URL; a corrupt or empty page"},
        502: {"model": ErrorPublic, "description": "The page could not be fetched"},
        503: {"model": ErrorPublic},
        504: {"model": ErrorPublic, "description": "Not fetched within RAGIS_URL_TIMEOUT"},
    },
    summary="Fetch a web page and ingest it into a collection",
    description=URL_DOC,
)
async def ingest_url(
    body: UrlIngest, settings: SettingsDep, pipeline: PipelineDep, access: EditorDep
) -> FileIndexed:
    fetcher = PageFetcher(
        FetchLimits(max_bytes=settings.max_upload_bytes, timeout=settings.url_timeout),
        AddressGuard(allow_private=settings.url_allow_private),
    )
    page = await fetcher.fetch(body.url)
    return await pipeline.ingest(
        page.data,
        page.filename,
        collection=body.collection,
        caller=access.caller,
        tags=list(dict.fromkeys(tag.strip() for tag in body.tags if tag.strip())),
        source=body.url,
    )
