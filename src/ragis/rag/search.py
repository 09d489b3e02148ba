"""Finding passages for a query: what a chat turn and `POST /search` share.

    checked_text, retrieval_mode   the checks that can still become an HTTP 4xx
    find()                         retrieval (the store's Retriever) and the grounded gate
    Searcher                       a search on its own: embed, find; no LLM, no cache, no session

A chat turn calls `find()` with the vector of its (possibly rewritten) query, alongside its cache
lookup; a search embeds the query and calls the same `find()`, so both see the same passages
with the same scores, legs and grounding for the same query, mode, filter and top_k.
"""

from __future__ import annotations

from dataclasses import dataclass

from ragis.contract.caller import Caller
from ragis.embedding import Embedder
from ragis.embedding.registry import Embedders
from ragis.errors import InvalidInput, TooLarge
from ragis.rag.grounding import Grounding, ground
from ragis.rag.settings import RagSettings
from ragis.store import NO_FILTER, CollectionInfo, RetrievedChunk, SearchFilter, Store, Vector
from ragis.store.retrieval import MODES

__all__ = ["Found", "Search", "Searcher", "checked_text", "find", "retrieval_mode"]


def checked_text(text: str, limit: int, *, what: str, empty: str) -> str:
    """`text` stripped; refused when empty (`empty` says what to do) or over `limit` characters
    (RAGIS_MAX_MESSAGE_CHARS)."""
    stripped = text.strip()
    if not stripped:
        raise InvalidInput(empty)
    if len(stripped) > limit:
        raise TooLarge(
            f"The {what} has {len(stripped)} characters; the limit is {limit} "
            "(RAGIS_MAX_MESSAGE_CHARS)."
        )
    return stripped


def retrieval_mode(asked: str | None, settings: RagSettings) -> str:
    """The mode asked for, else RAGIS_RETRIEVAL; an unknown one is refused."""
    mode = asked or settings.retrieval
    if mode not in MODES:
        raise InvalidInput(f"Unknown retrieval mode {mode!r}: use one of {', '.join(MODES)}.")
    return mode


@dataclass(frozen=True, slots=True)
class Found:
    """The passages found, best first, and whether they hold enough to answer from."""

    chunks: list[RetrievedChunk]
    #: A shard did not answer: the passages come from the others.
    partial: bool
    #: The mode that found them (`vector` while the keyword index is being built).
    mode: str
    grounding: Grounding


async def find(
    store: Store,
    info: CollectionInfo,
    vector: Vector,
    query: str,
    settings: RagSettings,
    *,
    top_k: int,
    flt: SearchFilter = NO_FILTER,
    mode: str = "hybrid",
) -> Found:
    """Search `info` for `query` (embedded as `vector`) and apply the grounded gate."""
    retrieval = await store.retriever.retrieve(
        info, vector, k=top_k, flt=flt, mode=mode, query=query
    )
    grounding = ground(
        retrieval.chunks, info, settings.min_score, question=query,
        language=settings.lexical_language,
    )  # fmt: skip
    return Found(retrieval.chunks, retrieval.partial, retrieval.mode, grounding)


@dataclass(frozen=True, slots=True)
class Search:
    """A search's answer: the collection searched, the query as searched, what was found."""

    collection: str
    query: str
    found: Found


class Searcher:
    """`POST /search`: the passages a chat turn would cite for a query, without an answer."""

    def __init__(
        self, store: Store, embedders: Embedders | Embedder, settings: RagSettings
    ) -> None:
        self._store = store
        self._embedders = Embedders.of(embedders)
        self._settings = settings

    async def search(
        self,
        query: str,
        caller: Caller,
        *,
        collection: str | None = None,
        top_k: int | None = None,
        flt: SearchFilter = NO_FILTER,
        retrieval: str | None = None,
    ) -> Search:
        """Search the caller's workspace (another workspace's collection is not there: 404)."""
        settings = self._settings
        mode = retrieval_mode(retrieval, settings)
        text = checked_text(
            query, settings.max_message_chars, what="query",
            empty="The query is empty: type what to search for.",
        )  # fmt: skip
        store = self._store.scoped(caller.workspace)
        info = await store.collections.require(collection or settings.default_collection)
        # The query is embedded with the model the collection's vectors came from.
        embedder = await self._embedders.get(info.model, collection=info.name)
        vector = (await embedder.embed([text]))[0]
        found = await find(
            store, info, vector, text, settings, top_k=top_k or settings.top_k, flt=flt, mode=mode
        )
        return Search(info.name, text, found)
