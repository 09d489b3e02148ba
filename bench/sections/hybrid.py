"""Hybrid retrieval at 100k chunks: the retrieval stage per mode (`vector`, `hybrid`,
`lexical`), what the keyword index adds to ingestion, and its Redis memory per chunk next to the
vectors' and the texts'.

Everything runs against a fresh embedded Redis 8 of its own (no gateway, no RAG service):

1. **Ingestion share.** Real documents of the corpus are indexed by the RAG service's own
   `IndexService` with the real embedder (batches of 32, writes overlapped with embedding), while
   pass-through timers add up tokenizing (`ragis.lexical.index_terms_of`, in its worker thread),
   the keyword-index writes (`LexicalIndex.add`), the chunk hashes and the `VADD`s.
2. **Loading.** 100k chunks are written as the indexing service writes them
   (`DocumentRegistry.write_chunks`: tokenize, chunk hashes, keyword index, vectors), documents
   of 100 chunks, a few documents at a time. Texts: the real chunks, then varied copies of them
   (see `Variants`), so that term statistics look like a large real corpus: no two copies alike,
   frequent words frequent, plus rare codes and identifiers. Vectors: the real chunk embeddings,
   then `bench.sections.retrieval.synthesize` mixtures.
3. **Latency** at 10k (the first 10k chunks) and at 100k: each question is embedded once, then
   `Store.retriever.retrieve` runs in each mode (rotating the order), then each leg alone.
4. **Memory**: `MEMORY USAGE` (exact, `SAMPLES 0`) over the keyword index's keys, the vector set
   and the chunk hashes; then `INFO memory` before and after deleting the keyword index.

Run alone with `python -m bench.sections.hybrid [--quick] [--out docs] [--cache DIR]`: it replaces
this section in docs/benchmarks.md and leaves the rest of the report as it is. `--cache` reuses a
model cache (the embedding backend is otherwise picked afresh, ~1 min on 2 cores).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import logging
import random
import re
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from redis.asyncio import Redis

import ragis.store.documents as documents_module
from bench.context import Context
from bench.report import Goal, Section, Table, fmt_ratio, replace_section
from bench.sections.ingest import TimedEmbedder
from bench.sections.retrieval import synthesize
from bench.stats import paired_ratio, percentile, summarize
from ragis.db import EmbeddedRedis
from ragis.embedding import Embedder
from ragis.lexical import tokenizer
from ragis.rag.indexing import IndexService
from ragis.settings import load_settings
from ragis.store import ChunkText, DocumentRecord, Store
from ragis.store.chunks import ChunkStore
from ragis.store.keys import ShardKeys
from ragis.store.lexical import LexicalIndex
from ragis.store.vectors import VectorIndex

__all__ = ["TITLE", "Variants", "run"]

TITLE = "10. Hybrid retrieval: latency, ingest cost and memory of the keyword index"
P50_GOAL_MS = 15.0
SHARE_GOAL = 0.10
MODES = ("vector", "hybrid", "lexical")
PER_DOC = 100
LOAD_CONCURRENCY = 3  # documents written at once: tokenizing overlaps Redis's work
K = 5
LEG_DEPTH = 20  # what Retriever asks each leg for k = 5 (max(4 k, 20))
T = TypeVar("T")
log = logging.getLogger("bench")


class Variants:
    """Chunk texts of a large corpus made from real ones. Text `i` is real chunk `i` for the
    first `len(texts)`; after that, a copy of real chunk `i % len(texts)` in which each word is
    dropped (p 0.1) or replaced by a word drawn from the whole corpus (p 0.05: frequent words
    stay frequent), with an error code (`E44-4471`, nearly unique), an identifier (snake_case,
    dotted or camelCase, from a pool of 5,000 reused with a skewed distribution) and sometimes a
    version (`v2.3.1`) inserted at random places. Deterministic per index."""

    def __init__(self, texts: Sequence[str], *, seed: int = 17, pool: int = 5_000) -> None:
        self.texts = list(texts)
        self._seed = seed
        self._occurrences = [w for t in self.texts for w in t.split()]
        words = sorted({w for t in self.texts for w in re.findall(r"[a-z]{4,12}", t.lower())})
        rng = random.Random(seed)
        self._pool = []
        for _ in range(pool):
            a, b = rng.choice(words), rng.choice(words)
            style = rng.randrange(3)
            self._pool.append(
                f"{a}_{b}" if style == 0 else f"{a}.{b}" if style == 1 else a + b.capitalize()
            )

    def code(self, i: int) -> str:
        rng = random.Random(self._seed * 1_000_003 + i)
        return f"E{rng.randint(10, 99)}-{rng.randint(1000, 9999)}"

    def identifier(self, i: int) -> str:
        rng = random.Random(self._seed * 2_000_003 + i)
        return self._pool[int(len(self._pool) * rng.random() ** 3)]

    def text(self, i: int) -> str:
        base = self.texts[i % len(self.texts)]
        if i < len(self.texts):
            return base
        rng = random.Random(self._seed * 3_000_017 + i)
        words = []
        for word in base.split():
            r = rng.random()
            if r >= 0.1:
                words.append(rng.choice(self._occurrences) if r < 0.15 else word)
        inserts = [f"error {self.code(i)}", self.identifier(i)]
        if rng.random() < 0.3:
            inserts.append(f"since v{rng.randint(1, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 30)}")
        for phrase in inserts:
            words.insert(rng.randint(0, len(words)), phrase)
        return " ".join(words)

    def exact_questions(self, n: int, size: int, *, seed: int = 23) -> list[str]:
        """Questions naming a code (2 in 3) or an identifier of the varied chunks below `size`."""
        rng = random.Random(seed)
        out = []
        for j in range(n):
            i = rng.randrange(len(self.texts), size)
            if j % 3 < 2:
                out.append(f"What does error {self.code(i)} mean?")
            else:
                out.append(f"Where is {self.identifier(i)} used?")
        return out


def natural_questions(texts: Sequence[str], n: int, *, seed: int = 11) -> list[str]:
    """The opening words (6-14) of `n` sentences of real chunks (as bench.corpus.questions)."""
    rng = random.Random(seed)
    sentences = [s for t in texts for s in re.split(r"(?<=[.!?])\s+", t) if len(s) > 40]
    picked = rng.sample(sentences, min(n, len(sentences)))
    return [" ".join(s.split()[: rng.randint(6, 14)]) for s in picked]


# -- timers around the data layer's write stages (pass-through, restored on exit) -------------


@contextlib.contextmanager
def stage_timers() -> Iterator[dict[str, float]]:
    """Seconds spent in each write stage of `DocumentRegistry.write_chunks`, added up."""
    spent = dict.fromkeys(("tokenize", "keyword index", "chunk texts", "vectors"), 0.0)
    lock = threading.Lock()

    def add(stage: str, started: float) -> None:
        with lock:  # tokenizing runs in worker threads
            spent[stage] += time.perf_counter() - started

    def sync(fn: Callable[..., T], stage: str) -> Callable[..., T]:
        def timed(*args: Any, **kwargs: Any) -> T:
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                add(stage, started)

        return timed

    def run_async(fn: Callable[..., Awaitable[T]], stage: str) -> Any:
        async def timed(*args: Any, **kwargs: Any) -> T:
            started = time.perf_counter()
            try:
                return await fn(*args, **kwargs)
            finally:
                add(stage, started)

        return timed

    # write_chunks looks `index_terms_of` up in its module's namespace at each call.
    namespace = vars(documents_module)
    originals = (
        namespace["index_terms_of"],
        LexicalIndex.add,
        ChunkStore.put_many,
        VectorIndex.add,
    )
    namespace["index_terms_of"] = sync(originals[0], "tokenize")
    LexicalIndex.add = run_async(originals[1], "keyword index")  # type: ignore[method-assign]
    ChunkStore.put_many = run_async(originals[2], "chunk texts")  # type: ignore[method-assign]
    VectorIndex.add = run_async(originals[3], "vectors")  # type: ignore[method-assign]
    try:
        yield spent
    finally:
        namespace["index_terms_of"] = originals[0]
        LexicalIndex.add = originals[1]  # type: ignore[method-assign]
        ChunkStore.put_many = originals[2]  # type: ignore[method-assign]
        VectorIndex.add = originals[3]  # type: ignore[method-assign]


class _Recorder(TimedEmbedder):
    """A `TimedEmbedder` that also keeps each text's vector (the real vectors of part 3)."""

    def __init__(self, inner: Embedder) -> None:
        super().__init__(inner)
        self.vectors: dict[str, np.ndarray] = {}

    async def embed(self, texts: Any) -> Any:
        out = await super().embed(texts)
        self.vectors.update(zip(texts, np.asarray(out, dtype=np.float32), strict=True))
        return out


# -- the measurements -------------------------------------------------------------------------


async def ingest_share(
    store: Store, embedder: Embedder, docs: Sequence[tuple[str, list[str]]]
) -> tuple[dict[str, float], list[float], dict[str, np.ndarray]]:
    """Index `docs` (filename, chunk texts) with the RAG service's `IndexService`: the seconds per
    stage (and `wall`, `embed`, `chunks`), each document's lexical share, the vectors made."""
    recorder = _Recorder(embedder)
    indexer = IndexService(store, recorder, batch_size=32)
    shares: list[float] = []
    wall = 0.0
    chunks = 0
    with stage_timers() as spent:
        for n, (filename, texts) in enumerate(docs):
            before = spent["tokenize"] + spent["keyword index"]
            data = "\n\n".join(texts).encode()
            record = DocumentRecord(
                id=f"doc{n:04d}", filename=filename, content_type="text/plain", size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
            )  # fmt: skip
            started = time.perf_counter()
            await indexer.index("ingest", record, [ChunkText(t, i) for i, t in enumerate(texts)])
            seconds = time.perf_counter() - started
            wall += seconds
            chunks += len(texts)
            shares.append((spent["tokenize"] + spent["keyword index"] - before) / seconds)
        stages = dict(spent)
    stages.update(wall=wall, embed=recorder.seconds, chunks=float(chunks))
    return stages, shares, recorder.vectors


async def load(
    store: Store, variants: Variants, vectors: np.ndarray, start: int, stop: int
) -> tuple[float, dict[str, float]]:
    """Write chunks `start`..`stop` as documents of `PER_DOC` chunks through
    `DocumentRegistry.write_chunks`, `LOAD_CONCURRENCY` documents at a time: (wall seconds, the
    summed seconds of each write stage)."""
    info = await store.collections.ensure("c", model="bench", dim=vectors.shape[1])
    gate = asyncio.Semaphore(LOAD_CONCURRENCY)

    async def document(d: int) -> None:
        async with gate:
            doc_id = f"d{d:05d}"
            rows = range(d * PER_DOC, (d + 1) * PER_DOC)
            record = await store.documents.begin(
                "c",
                DocumentRecord(
                    id=doc_id, filename=f"{doc_id}.txt", content_type="text/plain", size=1,
                    sha256=f"sha-{doc_id}", chunk_count=PER_DOC,
                ),
            )  # fmt: skip
            chunks = [ChunkText(variants.text(i), i - rows.start) for i in rows]
            await store.documents.write_chunks(
                info, record, chunks, vectors[rows.start : rows.stop]
            )
            await store.documents.mark_ready("c", doc_id)

    started = time.perf_counter()
    with stage_timers() as spent:
        await asyncio.gather(*(document(d) for d in range(start // PER_DOC, stop // PER_DOC)))
        stages = dict(spent)
    return time.perf_counter() - started, stages


Timings = dict[str, list[float]]


async def latencies(store: Store, embedder: Embedder, qs: Sequence[str]) -> Timings:
    """Per question, ms: `embed`, each mode's `retrieve` (`Store.retriever.retrieve`, by the
    collection's name, as a chat turn calls it), and the parts: `terms` (tokenizing the
    question), `vector leg` (VSIM of `LEG_DEPTH`), `lexical leg` (the BM25 script), `judge`
    (the candidates' document states and, with `VEMB … RAW`, the vectors of the hits only the
    lexical leg found, as `retrieve` reads them), `texts` (the texts of the best `K` + 2),
    `vemb` (the same vectors as 384 parsed numbers each: what `VEMB` without RAW cost) and
    `only` (how many such hits: a count, not ms)."""
    info = await store.collections.require("c")
    assert info.lexical is not None, "the collection has no keyword index"
    shards = store.keys.collection("c").shards(info.shards)
    keys = [*("embed", *MODES, "info", "terms", "vector leg", "lexical leg", "judge", "texts")]
    keys += ["vemb", "only", "candidates"]
    out: Timings = {k: [] for k in keys}
    for j, q in enumerate(["warm-up question about errors", *qs]):
        t = time.perf_counter()
        vector = (await embedder.embed([q]))[0]
        row = {"embed": time.perf_counter() - t}
        for mode in MODES[j % 3 :] + MODES[: j % 3]:
            t = time.perf_counter()
            await store.retriever.retrieve("c", vector, k=K, mode=mode, query=q)
            row[mode] = time.perf_counter() - t
        t = time.perf_counter()
        await store.collections.require("c")
        row["info"] = time.perf_counter() - t
        t = time.perf_counter()
        terms = tokenizer(info.lexical).query_terms(q)
        row["terms"] = time.perf_counter() - t
        t = time.perf_counter()
        vsearch = await store.vectors.search_all(info, vector, k=LEG_DEPTH)
        row["vector leg"] = time.perf_counter() - t
        t = time.perf_counter()
        lsearch = await store.lexical.search_all(shards, terms, LEG_DEPTH)
        row["lexical leg"] = time.perf_counter() - t
        found = {h.id for h in vsearch.hits}
        only = [h.chunk_id for h in lsearch.hits if h.chunk_id not in found]
        candidates = list(dict.fromkeys([*found, *(h.chunk_id for h in lsearch.hits)]))
        t = time.perf_counter()
        await _judge(store, candidates, shards[0].vectors, only, vector)
        row["judge"] = time.perf_counter() - t
        t = time.perf_counter()
        await _texts(store, info, candidates[: K + 2])
        row["texts"] = time.perf_counter() - t
        row["vemb"] = await _vemb(store, shards[0].vectors, only, vector)
        if j:  # the first one warms the connections and the scripts up
            for key, seconds in row.items():
                out[key].append(seconds * 1000)
            out["only"].append(float(len(only)))
            out["candidates"].append(float(len(candidates)))
    return out


async def _judge(store: Store, ids: list[str], key: str, only: list[str], query: Any) -> None:
    """The first round trip `retrieve` makes after the legs: the state of the candidates'
    documents, and the stored vectors (`VEMB … RAW`) of the hits only the lexical leg found,
    scored against the question."""
    ck = store.keys.collection("c")
    async with store.redis.pipeline(transaction=False) as pipe:
        for doc_id in dict.fromkeys(cid.rsplit(":", 1)[0] for cid in ids):
            pipe.hmget(ck.doc(doc_id), ["status", "filename", "tags"])
        for cid in only:
            pipe.execute_command("VEMB", key, cid, "RAW")
        replies = await pipe.execute()
    if only:  # the range and the norm scale every element alike: the cosine needs neither
        q = np.asarray(query, dtype=np.float32)
        stored = np.vstack([np.frombuffer(r[1], dtype=np.int8) for r in replies[-len(only) :]])
        cosine = (stored.astype(np.float32) @ q) / (
            np.linalg.norm(stored, axis=1) * np.linalg.norm(q)
        )
        assert cosine.shape == (len(only),)


async def _texts(store: Store, info: Any, ids: list[str]) -> None:
    """The second round trip: the texts of the best candidates only."""
    async with store.redis.pipeline(transaction=False) as pipe:
        store.chunks.queue_get(pipe, info, ids)
        await pipe.execute()


async def _vemb(store: Store, key: str, ids: list[str], query: Any) -> float:
    """Seconds to read the vectors of `ids` as 384 numbers each (`VEMB` without RAW, which
    `retrieve` read at first) and score them against `query`: what RAW saves."""
    if not ids:
        return 0.0
    q = np.asarray(query, dtype=np.float32)
    t = time.perf_counter()
    async with store.redis.pipeline(transaction=False) as pipe:
        for cid in ids:
            pipe.execute_command("VEMB", key, cid)
        replies = await pipe.execute()
    stored = np.asarray(replies).astype(np.float32)
    cosine = (stored @ q) / (np.linalg.norm(stored, axis=1) * np.linalg.norm(q))
    assert cosine.shape == (len(ids),)
    return time.perf_counter() - t


async def _usage(redis: Redis, pattern: str, *, zcard: bool = False) -> tuple[int, int, int]:
    """(keys, MEMORY USAGE bytes, and the summed ZCARD if asked) of the keys matching."""
    keys = total = members = 0
    batch: list[bytes] = []

    async def flush() -> None:
        nonlocal total, members
        async with redis.pipeline(transaction=False) as pipe:
            for key in batch:
                pipe.execute_command("MEMORY", "USAGE", key, "SAMPLES", 0)
                if zcard:
                    pipe.zcard(key)
            replies = await pipe.execute()
        step = 2 if zcard else 1
        total += sum(int(r or 0) for r in replies[::step])
        members += sum(int(r or 0) for r in replies[1::step]) if zcard else 0
        batch.clear()

    async for key in redis.scan_iter(match=pattern, count=5_000):
        batch.append(key)
        keys += 1
        if len(batch) >= 2_000:
            await flush()
    if batch:
        await flush()
    return keys, total, members


async def _one_shard(store: Store) -> ShardKeys:
    info = await store.collections.require("c")
    assert info.shards == 1, "the benchmark's collection has one shard (the default)"
    return store.keys.collection("c").shards(1)[0]


async def memory(redis: Redis, store: Store, size: int) -> dict[str, float]:
    """Bytes per chunk (`MEMORY USAGE`, exact) of the keyword index and its parts, the vector
    set, the chunk hashes; the term keys and postings per chunk."""
    shard = await _one_shard(store)
    terms, postings_bytes, postings = await _usage(redis, shard.lex_term("*"), zcard=True)
    _, chunk_terms_bytes, _ = await _usage(redis, shard.lex_chunk("*"))
    _, text_bytes, _ = await _usage(redis, shard.chunk("*"))
    stats_bytes = int(await redis.execute_command("MEMORY", "USAGE", shard.lex_stats) or 0)
    vector_bytes = int(await redis.execute_command("MEMORY", "USAGE", shard.vectors) or 0)
    lexical = postings_bytes + chunk_terms_bytes + stats_bytes
    return {
        "lexical": lexical / size, "postings": postings_bytes / size,
        "chunk terms": chunk_terms_bytes / size, "vectors": vector_bytes / size,
        "texts": text_bytes / size, "terms": float(terms), "postings per chunk": postings / size,
    }  # fmt: skip


async def drop_keyword_index(redis: Redis, store: Store) -> int:
    """Delete every `lex:` key of the collection; returns `used_memory` freed (bytes)."""
    before = int((await redis.info("memory"))["used_memory"])
    shard = await _one_shard(store)
    batch: list[bytes] = []
    async for key in redis.scan_iter(match=f"{shard.base}:lex:*", count=5_000):
        batch.append(key)
    for start in range(0, len(batch), 5_000):
        await redis.delete(*batch[start : start + 5_000])
    await asyncio.sleep(0.5)
    return before - int((await redis.info("memory"))["used_memory"])


# -- the section ------------------------------------------------------------------------------


def run(ctx: Context) -> Section:
    assert ctx.embedder is not None, "the hybrid section needs the embedder"
    return asyncio.run(_run(ctx, ctx.embedder))


async def _run(ctx: Context, embedder: Embedder) -> Section:
    sizes = (1_000, 5_000) if ctx.quick else (10_000, 100_000)
    n_natural, n_exact = (20, 10) if ctx.quick else (100, 50)
    ingest_chunks = 64 if ctx.quick else 400
    docs, total = [], 0
    for doc, texts in zip(ctx.docs, ctx.chunks, strict=True):
        if total >= ingest_chunks:
            break
        if texts:
            docs.append((doc.filename, texts))
            total += len(texts)
    with EmbeddedRedis(ctx.work / "hybrid-redis", port=0) as server:
        redis = Redis.from_url(server.url)
        try:
            settings = load_settings(_env_file=None, redis_url=server.url, key_prefix="hyb")
            store = Store.create(redis, settings)
            log.info("hybrid: indexing %d real chunks with the real embedder ...", total)
            stages, shares, made = await ingest_share(store, embedder, docs)
            await store.collections.delete("ingest")
            real_vectors = {**ctx.raw_vectors, **made}
            texts = list(real_vectors) + [t for t in ctx.flat_chunks if t not in real_vectors]
            real = np.vstack([real_vectors[t] for t in real_vectors]).astype(np.float32)
            variants = Variants(texts)
            vectors = synthesize(real, sizes[-1])
            natural = natural_questions(texts, n_natural)
            used_before = int((await redis.info("memory"))["used_memory"])
            loads, timings, mems = [], {}, {}
            start = 0
            for size in sizes:
                log.info("hybrid: loading chunks %d..%d ...", start, size)
                seconds, spent = await load(store, variants, vectors, start, size)
                loads.append((size - start, seconds, spent))
                start = size
                used = int((await redis.info("memory"))["used_memory"]) - used_before
                mems[size] = {**await memory(redis, store, size), "used": used / size}
                exact = variants.exact_questions(n_exact, size)
                log.info("hybrid: %d chunks loaded in %.0f s; questions ...", size, seconds)
                timings[size] = (
                    await latencies(store, embedder, natural),
                    await latencies(store, embedder, exact),
                )
            freed = await drop_keyword_index(redis, store)
        finally:
            await redis.aclose()
    return _section(
        ctx, sizes, stages, shares, loads, timings, mems, freed, len(real), len(texts), natural
    )


def _ms(values: Sequence[float]) -> str:
    return f"{percentile(values, 50):.2f} / {percentile(values, 95):.2f}"


def _section(
    ctx: Context,
    sizes: tuple[int, int],
    stages: dict[str, float],
    shares: list[float],
    loads: list[tuple[int, float, dict[str, float]]],
    timings: dict[int, tuple[Timings, Timings]],
    mems: dict[int, dict[str, float]],
    freed: int,
    n_real: int,
    n_texts: int,
    natural: list[str],
) -> Section:
    big = sizes[-1]
    backend = ctx.embedder.describe() if ctx.embedder is not None else "?"
    section = Section("hybrid", TITLE)
    section.intro = (
        f"A fresh embedded Redis 8 of its own, the default settings (Q8, EF 300, one shard, "
        f"adaptive fusion, `k` = {K}) and the default embedding backend ({backend}). Chunk "
        f"texts: the {n_texts} real "
        f"chunks of the corpus, then varied copies (each word dropped with p 0.1 or replaced "
        "by a corpus word with p 0.05; an error code such as `E44-4471`, a snake_case, dotted "
        "or camelCase identifier from a skewed pool of 5,000, sometimes a `v2.3.1`, inserted), "
        "so term frequencies stay those of real text and rare terms exist. Vectors: the "
        f"{n_real} real chunk embeddings, then the synthetic mixtures of section 3; a varied "
        "copy's vector is not its text's, so the two legs rarely agree and hybrid reads the "
        "vector (`VEMB`) of nearly every lexical hit: the costly case. Loaded through "
        "`DocumentRegistry.write_chunks` (tokenize, chunk hashes, keyword index, `VADD`), the "
        f"first {sizes[0]:,} measured before the rest is added. Questions: {len(natural)} "
        "natural-language ones (openings of corpus sentences: frequent words, the keyword "
        "index's slow path) and exact-term ones (a code in 2 of 3, else an identifier, of a "
        "chunk in the collection). Each question is embedded once (real model, timed) and run "
        "through `Store.retriever.retrieve(collection, vector, mode=…, query=…)` in each mode, "
        "in rotating order; the retrieval stage is embedding + retrieve, as in section 3."
    )
    rows = []
    goal_p50 = float("nan")
    for size in sizes:
        for kind, t in zip(("natural", "exact term"), timings[size], strict=True):
            for mode in MODES:
                stage = [e + r for e, r in zip(t["embed"], t[mode], strict=True)]
                ratio = paired_ratio(t[mode], t["vector"])
                rows.append(
                    [f"{size:,}", kind, mode, _ms(t["embed"]), _ms(t[mode]), _ms(stage),
                     "1" if mode == "vector" else fmt_ratio(ratio.median)]
                )  # fmt: skip
                if size == big and kind == "natural" and mode == "hybrid":
                    goal_p50 = percentile(stage, 50)
    section.tables.append(
        Table(
            "Retrieval stage, ms p50 / p95",
            [
                "chunks",
                "questions",
                "mode",
                "embed question",
                "retrieve",
                "retrieval stage",
                "retrieve × vector (paired median)",
            ],
            rows,
        )
    )
    parts = []
    for size in sizes:
        for kind, t in zip(("natural", "exact term"), timings[size], strict=True):
            parts.append(
                [f"{size:,}", kind, _ms(t["info"]), _ms(t["terms"]), _ms(t["vector leg"]),
                 _ms(t["lexical leg"]),
                 f"{_ms(t['judge'])} ({percentile(t['candidates'], 50):.0f}, "
                 f"{percentile(t['only'], 50):.0f})",
                 _ms(t["texts"]), _ms(t["vemb"])]
            )  # fmt: skip
    section.tables.append(
        Table(
            "Where the time of a retrieve goes: its steps run alone, ms p50 / p95 (hybrid runs "
            "the two legs at once, then two round trips: the candidates' documents and the "
            "lexical-only hits' vectors, then the texts of the best)",
            [
                "chunks",
                "questions",
                "collection info (1 round trip; a chat turn has it already)",
                "tokenize question",
                f"vector leg alone (VSIM {LEG_DEPTH})",
                f"lexical leg alone (BM25 script, {LEG_DEPTH})",
                "document states + VEMB … RAW of the lexical-only hits (candidates, of them "
                "lexical-only)",
                f"texts of the best {K} + 2",
                "those vectors without RAW (384 numbers each: what RAW saves)",
            ],
            parts,
        )
    )
    wall, n_chunks = stages["wall"], stages["chunks"]
    lexical_s = stages["tokenize"] + stages["keyword index"]
    share = lexical_s / wall
    writes = sum(stages[k] for k in ("tokenize", "keyword index", "chunk texts", "vectors"))
    rows_ingest = [
        [name, f"{stages[key]:.2f}", f"{stages[key] / n_chunks * 1000:.2f}",
         f"{stages[key] / wall:.1%}"]
        for name, key in (
            ("embed (real model, batches of 32)", "embed"),
            ("tokenize (index_terms_of, worker thread)", "tokenize"),
            ("keyword index writes (LexicalIndex.add)", "keyword index"),
            ("chunk hashes (HSET)", "chunk texts"),
            ("vectors (VADD)", "vectors"),
            ("indexing wall time (IndexService.index)", "wall"),
        )
    ]  # fmt: skip
    rows_ingest.append(
        ["**tokenize + keyword index**", f"{lexical_s:.2f}",
         f"{lexical_s / n_chunks * 1000:.2f}", f"**{share:.1%}**"]
    )  # fmt: skip
    section.tables.append(
        Table(
            f"Ingestion: {int(n_chunks)} real chunks in {len(shares)} documents through the RAG "
            "service's IndexService",
            ["stage", "seconds", "ms per chunk", "share of the indexing wall time"],
            rows_ingest,
        )
    )
    rows_load = []
    for n, seconds, spent in loads:
        rows_load.append(
            [f"{n:,}", f"{seconds:.0f}", f"{n / seconds:,.0f}",
             f"{spent['tokenize'] / n * 1000:.2f}", f"{spent['keyword index'] / n * 1000:.2f}",
             f"{spent['chunk texts'] / n * 1000:.2f}", f"{spent['vectors'] / n * 1000:.2f}"]
        )  # fmt: skip
    section.tables.append(
        Table(
            f"Loading through DocumentRegistry.write_chunks, {LOAD_CONCURRENCY} documents of "
            f"{PER_DOC} chunks at a time (stage times overlap: summed over the concurrent writers)",
            [
                "chunks added",
                "seconds",
                "chunks/s",
                "tokenize ms/chunk",
                "keyword index ms/chunk",
                "chunk hashes ms/chunk",
                "VADD ms/chunk",
            ],
            rows_load,
        )
    )
    rows_mem = []
    for size in sizes:
        m = mems[size]
        rows_mem.append(
            [f"{size:,}", f"{m['lexical']:,.0f}", f"{m['postings']:,.0f}",
             f"{m['chunk terms']:,.0f}", f"{m['vectors']:,.0f}", f"{m['texts']:,.0f}",
             f"{m['used']:,.0f}", f"{m['terms']:,.0f}", f"{m['postings per chunk']:.1f}"]
        )  # fmt: skip
    section.tables.append(
        Table(
            "Redis memory per chunk, bytes (MEMORY USAGE … SAMPLES 0)",
            [
                "chunks",
                "keyword index",
                "of it: postings (lex:t)",
                "of it: chunk terms (lex:c)",
                "vector set (Q8)",
                "chunk hashes (text)",
                "used_memory delta, all",
                "term keys",
                "postings per chunk",
            ],
            rows_mem,
        )
    )
    section.notes.append(
        f"Deleting the keyword index at {big:,} chunks freed {freed / big:,.0f} bytes per chunk "
        "of `used_memory` (INFO memory), next to its MEMORY USAGE sum above."
    )
    section.notes.append(
        f"Ingestion: share per document {summarize(shares).fmt(3)} (median, 10th–90th "
        f"percentile). The writes overlap the next batch's embedding, so the wall-time share "
        f"is an upper bound; tokenize + keyword index are {lexical_s / writes:.0%} of the "
        f"write stages and {lexical_s / (stages['embed'] + writes):.1%} of embed + writes."
    )
    section.notes.append(
        "A lexical hit's similarity is read with `VEMB … RAW` (its int8 bytes) since this "
        "section's first run, which read 384 numbers per hit and measured a hybrid p50 of 54 ms "
        "at 100,000 chunks, most of it in redis-py's parser; and a frequent term's best 100 "
        "postings are read, not 250 (store/lexical.py)."
    )
    section.notes.append(
        "The machine is shared and its load varies: read the paired ratios (each question's "
        "modes run back to back) rather than the absolute milliseconds."
    )
    section.goals.append(
        Goal(f"hybrid retrieval stage p50 at {big // 1000}k (natural questions, with embedding)",
             f"≤ {P50_GOAL_MS:.0f} ms", f"{goal_p50:.1f} ms", goal_p50 <= P50_GOAL_MS)
    )  # fmt: skip
    section.goals.append(
        Goal("lexical indexing (tokenize + keyword index) share of ingest time",
             f"≤ {SHARE_GOAL:.0%}", f"{share:.1%}", share <= SHARE_GOAL)
    )  # fmt: skip
    return section


def main(argv: Sequence[str] | None = None) -> int:
    from bench.corpus import chunk_documents, load_documents
    from bench.machine import describe_machine
    from ragis.embedding.select import load_embedder
    from ragis.gateway.settings import GatewaySettings
    from ragis.ingest import Chunker

    parser = argparse.ArgumentParser(prog="python -m bench.sections.hybrid")
    parser.add_argument("--quick", action="store_true", help="1k and 5k chunks, under a minute")
    parser.add_argument("--out", type=Path, default=Path("docs"), help="report folder (docs)")
    parser.add_argument("--cache", type=Path, default=None, help="model cache to reuse")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    started = time.perf_counter()
    defaults = GatewaySettings.model_fields
    chunker = Chunker(defaults["chunk_tokens"].default, defaults["chunk_overlap"].default)
    docs = load_documents(60_000 if args.quick else 1_050_000)
    with tempfile.TemporaryDirectory(prefix="ragis-bench-hybrid-") as work:
        cache = args.cache or Path(work) / "models"
        ctx = Context(
            quick=args.quick, out=args.out, work=Path(work), cache=cache,
            machine=describe_machine(), docs=docs, chunks=chunk_documents(docs, chunker),
        )  # fmt: skip
        ctx.embedder = load_embedder("auto", cache_dir=cache)
        section = run(ctx)
    section.seconds = time.perf_counter() - started
    print(replace_section(args.out / "benchmarks.md", section))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
