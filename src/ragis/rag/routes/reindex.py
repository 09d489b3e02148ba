"""`POST /collections/{name}/reindex`: move a collection to another embedding model, streamed.

The work is the store's (store/reindex.py): embed every chunk again from its stored text into a
new vector set beside the old one, then swap. Questions keep being answered from the old
vectors with the old model meanwhile. The answer is NDJSON (contract/reindex.py): a `progress`
line after each written batch (repeated every few seconds while the swap waits for uploads in
progress to end, so nothing between here and the client times out), then the result or the
error. A client that leaves stops the reindex, which resumes when it is run again.

What can be refused is refused before the stream begins, as a JSON error: an invalid name or
body (422), an unknown collection (404), a model this service cannot embed with (409
`model_unavailable`), a reindex of the collection already running (409 `conflict`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Path
from starlette.responses import Response

from ragis.contract import ErrorPublic
from ragis.contract.reindex import ReindexPublic, ReindexRequest, ReindexTimings
from ragis.embedding import Embedder
from ragis.errors import Conflict, RagisError
from ragis.rag.deps import ServicesDep, WorkspaceStoreDep
from ragis.rag.index_stream import NDJSON, NdjsonResponse
from ragis.store import ReindexResult, Store
from ragis.store.keys import NAME_PATTERN as NAME
from ragis.web.errors import status_for
from ragis.web.followed import Followed

__all__ = ["router"]

router = APIRouter(tags=["collections"])

log = logging.getLogger("ragis.rag")

#: Seconds without a written batch after which the last progress line is sent again.
HEARTBEAT = 10.0


@router.post(
    "/collections/{name}/reindex",
    response_model=None,
    responses={
        200: {"content": {NDJSON: {"schema": {"type": "object"}}}},
        404: {"model": ErrorPublic, "description": "No such collection in the workspace"},
        409: {"model": ErrorPublic, "description": "Model unavailable, or a reindex running"},
        422: {"model": ErrorPublic},
    },
    summary="Re-embed a collection with another embedding model and swap it in",
)
async def reindex_collection(
    body: ReindexRequest,
    services: ServicesDep,
    store: WorkspaceStoreDep,
    name: str = Path(pattern=NAME),
) -> Response:
    await store.collections.require(name)
    embedders = services.embedders
    embedder = (
        embedders.default
        if body.model is None
        else await embedders.get(body.model, collection=name, target=True)
    )
    state = await store.reindexer.state(name)
    if state is not None and state.running:
        raise Conflict(
            f"A reindex of collection {name!r} (to {state.model!r}) is already running: wait "
            "for it to end."
        )
    batch = services.settings.embed_batch_size
    return NdjsonResponse(
        _lines(store, name, embedder, restart=body.restart, force=body.force, batch=batch)
    )


async def _lines(
    store: Store, name: str, embedder: Embedder, *, restart: bool, force: bool, batch: int
) -> AsyncIterator[bytes]:
    last = {"type": "progress", "done": 0, "total": 0}

    async def run(report: Any) -> ReindexResult:
        return await store.reindexer.run(
            name, embedder, restart=restart, force=force, batch_size=batch,
            progress=lambda done, total: report((done, total)),
        )  # fmt: skip

    followed: Followed[tuple[int, int], ReindexResult] = Followed(run, idle=HEARTBEAT)
    async for item in followed.reports():
        if item is not None:
            last = {"type": "progress", "done": item[0], "total": item[1]}
        yield _line(last)
    try:
        result = followed.result()
    except RagisError as exc:
        yield _line(
            {
                "type": "error",
                "status": status_for(exc),
                "error": {"code": exc.code, "message": exc.message},
            }
        )
    except Exception:
        log.exception("reindex of %s failed", name)
        yield _line(
            {
                "type": "error",
                "status": 500,
                "error": {
                    "code": "internal_error",
                    "message": "ragis hit an unexpected error; see the service log.",
                },
            }
        )
    else:
        yield _line(public(result).model_dump(mode="json"))


def public(result: ReindexResult) -> ReindexPublic:
    return ReindexPublic(
        collection=result.collection,
        previous_model=result.previous_model,
        model=result.model,
        dim=result.dim,
        embedded=result.embedded,
        chunks=result.chunks,
        documents=result.documents,
        version=result.version,
        resumed=result.resumed,
        unchanged=result.unchanged,
        timings=ReindexTimings(
            embed_ms=result.embed_ms, write_ms=result.write_ms, total_ms=result.total_ms
        ),
    )


def _line(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
