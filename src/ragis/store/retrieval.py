"""Search: the vector leg (`VSIM`), the lexical leg (BM25 over the keyword index), or both
fused; then the chunk texts and document states in one round trip.

Modes (`RetrievalMode`): `vector`, `lexical`, `hybrid` (both legs in parallel, fused by
store/fusion.py). Every passage returned carries the legs that found it and its similarity to
the question, also when only the lexical leg found it (its vector is read with `VEMB` in the
round trip that reads its text), so a score means the same in every mode, and the grounded gate
(rag/grounding.py) can trust it.

A collection whose keyword index is not built yet (created before it existed, until the
backfill has run: store/backfill.py) is searched by its vectors alone; the `Retrieval` says which
mode was used. Lexical hits never passed VSIM's FILTER, so the filter is applied to them here.

Chunks of documents that are not `ready` (still ingesting, failed, or deleted a moment ago) are
dropped. That is rare, so instead of reading the pending documents before every search the
search over-fetches only when it actually dropped something.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
import numpy.typing as npt

from ragis.db.client import RedisClient
from ragis.lexical import tokenizer
from ragis.store.chunks import ChunkStore
from ragis.store.codec import text_of
from ragis.store.collections import Collections
from ragis.store.failures import speaks_redis
from ragis.store.filters import filter_expression, matches
from ragis.store.fusion import Candidate, adaptive_alpha, convex, rrf
from ragis.store.keys import Keys
from ragis.store.layout import document_of, document_of_chunk
from ragis.store.lexical import LexicalIndex, LexicalSearch
from ragis.store.models import (
    NO_FILTER,
    CollectionInfo,
    DocumentStatus,
    RetrievedChunk,
    SearchFilter,
    StoredChunk,
    Vector,
    VectorHit,
    VectorSearch,
)
from ragis.store.vectors import VectorIndex

__all__ = ["MODES", "Retrieval", "RetrievalMode", "Retriever"]

RetrievalMode = Literal["hybrid", "vector", "lexical"]
MODES: tuple[str, ...] = get_args(RetrievalMode)

_MAX_K = 1000
#: Candidates each leg gives the fusion, per passage asked: a passage the vector leg ranks 15th
#: can still come first once its exact term counts.
_DEPTH_PER_K = 4
_MIN_DEPTH = 20
#: The weight of the similarity in the fixed convex fusion (store/fusion.py), which the
#: benchmark compares with the adaptive one ragis uses (docs/benchmarks.md, section 11).
ALPHA = 0.5


@dataclass(frozen=True, slots=True)
class Retrieval:
    """The chunks found, best first; `partial` when a shard of the collection did not answer;
    `mode`: the mode actually used (`vector` when the keyword index is not built yet)."""

    chunks: list[RetrievedChunk]
    partial: bool = False
    mode: str = "vector"


@dataclass(frozen=True, slots=True)
class _Doc:
    status: str | None
    filename: str
    tags: tuple[str, ...]


@speaks_redis
class Retriever:
    def __init__(
        self,
        redis: RedisClient,
        keys: Keys,
        collections: Collections,
        vectors: VectorIndex,
        chunks: ChunkStore,
        lexical: LexicalIndex | None = None,
        *,
        language: str = "english",
        alpha: float = ALPHA,
        fusion: Literal["adaptive", "convex", "rrf"] = "adaptive",
    ) -> None:
        self._redis = redis
        self._keys = keys
        self._collections = collections
        self._vectors = vectors
        self._chunks = chunks
        self._lexical = lexical or LexicalIndex(redis)
        self._language = language
        self._alpha = alpha
        self._fusion = fusion

    async def search(
        self,
        collection: str,
        vector: Vector,
        *,
        k: int = 5,
        flt: SearchFilter = NO_FILTER,
        ef: int | None = None,
        mode: str = "vector",
        query: str = "",
    ) -> list[RetrievedChunk]:
        """The `k` best chunks of ready documents, best first. Unknown collection: NotFound."""
        return (
            await self.retrieve(collection, vector, k=k, flt=flt, ef=ef, mode=mode, query=query)
        ).chunks

    async def retrieve(
        self,
        collection: str | CollectionInfo,
        vector: Vector,
        *,
        k: int = 5,
        flt: SearchFilter = NO_FILTER,
        ef: int | None = None,
        mode: str = "vector",
        query: str = "",
    ) -> Retrieval:
        """Like `search`, and says whether a shard was missing from the answer and which mode
        ran. `query` is the question's text, which the lexical leg searches by. A caller that
        has just read the collection passes its `CollectionInfo` (one round trip less)."""
        if mode not in MODES:
            raise ValueError(f"unknown retrieval mode {mode!r}")
        info = (
            collection
            if isinstance(collection, CollectionInfo)
            else await self._collections.require(collection)
        )
        if mode == "vector" or info.lexical is None:
            return await self._vector_only(info, vector, k=k, flt=flt, ef=ef)
        tok = tokenizer(info.lexical)
        terms = tok.query_terms(query)
        if not terms and mode == "hybrid":
            # Nothing to search by words (a question of stopwords): the vectors decide alone.
            found = await self._vector_only(info, vector, k=k, flt=flt, ef=ef)
            return Retrieval(found.chunks, partial=found.partial, mode="hybrid")
        return await self._fused(
            info, vector, terms, k=k, flt=flt, ef=ef, mode=mode, codes=bool(tok.codes(query))
        )

    async def _vector_only(
        self, info: CollectionInfo, vector: Vector, *, k: int, flt: SearchFilter, ef: int | None
    ) -> Retrieval:
        expr = filter_expression(flt)
        count = k
        while True:
            result = await self._vectors.search_all(info, vector, k=count, ef=ef, filter_expr=expr)
            found, dropped = await self._resolve_hits(info, result.hits)
            if not dropped or len(result.hits) < count or count >= _MAX_K:
                return Retrieval(found[:k], partial=result.partial, mode="vector")
            count = min(count * 2 + dropped, _MAX_K)

    async def _fused(
        self,
        info: CollectionInfo,
        vector: Vector,
        terms: list[str],
        *,
        k: int,
        flt: SearchFilter,
        ef: int | None,
        mode: str,
        codes: bool,
    ) -> Retrieval:
        expr = filter_expression(flt)
        shards = self._keys.collection(info.name).shards(info.shards)
        depth = max(k * _DEPTH_PER_K, _MIN_DEPTH)
        while True:
            lexical_search = self._lexical.search_all(shards, terms, depth)
            if mode == "hybrid":
                vsearch, lsearch = await asyncio.gather(
                    self._vectors.search_all(info, vector, k=depth, ef=ef, filter_expr=expr),
                    lexical_search,
                )
            else:
                vsearch, lsearch = VectorSearch([]), await lexical_search
            found, dropped = await self._fuse(info, vector, vsearch, lsearch, flt, k=k, codes=codes)
            exhausted = len(vsearch.hits) < depth and len(lsearch.hits) < depth
            if len(found) >= k or not dropped or exhausted or depth >= _MAX_K:
                partial = vsearch.partial or lsearch.partial
                return Retrieval(found[:k], partial=partial, mode=mode)
            depth = min(depth * 2 + dropped, _MAX_K)

    async def _fuse(
        self,
        info: CollectionInfo,
        vector: Vector,
        vsearch: VectorSearch,
        lsearch: LexicalSearch,
        flt: SearchFilter,
        *,
        k: int,
        codes: bool = False,
    ) -> tuple[list[RetrievedChunk], int]:
        """The best `k` of both legs' candidates, and how many candidates were dropped. Two
        round trips: the candidates' documents (and the vectors of the lexical-only ones) to
        rank and drop them; then the texts of only the best, not of all ~40 candidates."""
        vector_hits = [(h.id, h.score) for h in vsearch.hits]
        lexical_hits = [(h.chunk_id, h.score) for h in lsearch.hits]
        by_vector = dict(vector_hits)
        ids = list(dict.fromkeys([*by_vector, *(cid for cid, _ in lexical_hits)]))
        docs, similarity = await self._judge(
            info, ids, vector, [cid for cid, _ in lexical_hits if cid not in by_vector]
        )
        if by_vector and self._fusion == "rrf":
            ranked = rrf(vector_hits, lexical_hits)
        elif by_vector:
            alpha = (
                adaptive_alpha(lexical_hits, names_a_code=codes)
                if self._fusion == "adaptive"
                else self._alpha
            )
            ranked = convex(vector_hits, lexical_hits, alpha=alpha, similarity=similarity)
        else:  # lexical mode: BM25 decides, the similarity is only shown
            ranked = [Candidate(cid, score, ("lexical",)) for cid, score in lexical_hits]
        eligible: list[tuple[Candidate, _Doc]] = []
        for candidate in ranked:
            doc_id = document_of_chunk(candidate.id)
            doc = docs.get(doc_id)
            if doc is None or doc.status != DocumentStatus.READY.value:
                continue
            if candidate.id not in by_vector and not matches(flt, doc_id, doc.tags):
                continue
            eligible.append((candidate, doc))
        found: list[RetrievedChunk] = []
        at = 0
        while len(found) < k and at < len(eligible):
            # A few more than needed: a chunk deleted since the search is rare, not impossible.
            batch = eligible[at : at + k - len(found) + 2]
            at += len(batch)
            texts = await self._texts(info, [c.id for c, _ in batch])
            for candidate, doc in batch:
                chunk = texts.get(candidate.id)
                if chunk is not None:
                    score = by_vector.get(candidate.id, similarity.get(candidate.id, 0.0))
                    found.append(RetrievedChunk(chunk, doc.filename, score, candidate.legs))
        dropped = len(ranked) - len(eligible) + (at - len(found))
        return found[:k], dropped

    async def _judge(
        self, info: CollectionInfo, ids: Sequence[str], vector: Vector, embed_ids: Sequence[str]
    ) -> tuple[dict[str, _Doc], dict[str, float]]:
        """The documents of `ids` (state, name, tags), and the similarity of `embed_ids` (the
        hits only the keyword index found) to the question, in one round trip."""
        if not ids:
            return {}, {}
        ck = self._keys.collection(info.name)
        doc_ids = list(dict.fromkeys(document_of_chunk(cid) for cid in ids))
        async with self._redis.pipeline(transaction=False) as pipe:
            for doc_id in doc_ids:
                pipe.hmget(ck.doc(doc_id), ["status", "filename", "tags"])
            for cid in embed_ids:
                # RAW: the stored bytes (int8, fp32 or bits) instead of 384 numbers to parse,
                # which took most of a lexical search's time.
                shard = ck.shard_for(document_of_chunk(cid), info.shards)
                pipe.execute_command("VEMB", shard.vectors, cid, "RAW")
            replies = await pipe.execute(raise_on_error=False)
        d = len(doc_ids)
        docs = {doc_id: _doc(reply) for doc_id, reply in zip(doc_ids, replies[:d], strict=True)}
        similarity = {
            cid: _similarity(vector, reply)
            for cid, reply in zip(embed_ids, replies[d:], strict=True)
            if isinstance(reply, list) and reply
        }
        return docs, similarity

    async def _texts(self, info: CollectionInfo, ids: Sequence[str]) -> dict[str, StoredChunk]:
        async with self._redis.pipeline(transaction=False) as pipe:
            self._chunks.queue_get(pipe, info, ids)
            replies = await pipe.execute()
        parsed = self._chunks.parse(ids, replies)
        return {cid: c for cid, c in zip(ids, parsed, strict=True) if c is not None}

    async def _resolve_hits(
        self, info: CollectionInfo, hits: list[VectorHit]
    ) -> tuple[list[RetrievedChunk], int]:
        if not hits:
            return [], 0
        ck = self._keys.collection(info.name)
        ids = [h.id for h in hits]
        doc_ids = list(dict.fromkeys(document_of(h.id, h.attributes) for h in hits))
        async with self._redis.pipeline(transaction=False) as pipe:
            self._chunks.queue_get(pipe, info, ids)
            for doc_id in doc_ids:
                pipe.hmget(ck.doc(doc_id), ["status", "filename"])
            replies = await pipe.execute()
        chunks = self._chunks.parse(ids, replies[: len(ids)])
        docs = {
            doc_id: (text_of(st) if st is not None else None, text_of(fn) if fn is not None else "")
            for doc_id, (st, fn) in zip(doc_ids, replies[len(ids) :], strict=True)
        }
        found: list[RetrievedChunk] = []
        dropped = 0
        for hit, chunk in zip(hits, chunks, strict=True):
            status, filename = docs.get(chunk.doc_id if chunk else "", (None, ""))
            if chunk is None or status != DocumentStatus.READY.value:
                dropped += 1
                continue
            found.append(RetrievedChunk(chunk=chunk, filename=filename, score=hit.score))
        return found, dropped


def _doc(reply: object) -> _Doc:
    if not isinstance(reply, list) or len(reply) != 3:
        return _Doc(None, "", ())
    status, filename, tags = reply
    try:
        parsed = json.loads(text_of(tags)) if tags is not None else []
    except ValueError:
        parsed = []
    return _Doc(
        text_of(status) if status is not None else None,
        text_of(filename) if filename is not None else "",
        tuple(str(t) for t in parsed) if isinstance(parsed, list) else (),
    )


def _similarity(query: Vector, raw: Sequence[object]) -> float:
    """VSIM's similarity scale, `(1 + cosine) / 2`, of the question and a stored vector as
    `VEMB ... RAW` gives it: its quantization, its bytes, then norm (and range). A cosine needs
    only the direction, so the int8 values are used as they are."""
    stored = _direction(raw, len(query))
    if stored is None:
        return 0.0
    q = np.asarray(query, dtype=np.float32)
    if text_of(raw[0]) == "bin":  # VSIM compares a binary set's bits with the query's signs
        q = np.where(q > 0, 1.0, -1.0).astype(np.float32)
    norm = float(np.linalg.norm(q) * np.linalg.norm(stored))
    return (1 + float(q @ stored) / norm) / 2 if norm else 0.0


def _direction(raw: Sequence[object], dim: int) -> npt.NDArray[np.float32] | None:
    if len(raw) < 2 or not isinstance(raw[1], bytes):
        return None
    kind, blob = text_of(raw[0]), raw[1]
    if kind == "int8" and len(blob) == dim:
        return np.frombuffer(blob, dtype=np.int8).astype(np.float32)
    if kind == "f32" and len(blob) == 4 * dim:
        return np.frombuffer(blob, dtype="<f4").astype(np.float32)
    if kind == "bin" and len(blob) * 8 >= dim:
        bits = np.unpackbits(np.frombuffer(blob, dtype=np.uint8), bitorder="little")[:dim]
        return bits.astype(np.float32) * 2 - 1
    return None
