"""The retrieval stage of a chat turn (embed the question, VSIM, fetch the chunks) at 10k and
100k chunks: latency, recall@10 against exact search, and memory per chunk, per quantization."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import numpy as np
from redis.asyncio import Redis

from bench.context import Context
from bench.corpus import questions
from bench.plots import line_chart
from bench.report import Goal, Section, Table
from bench.stats import percentile
from ragis.settings import Settings, load_settings
from ragis.store import ChunkText, DocumentRecord, Store, chunk_id

__all__ = ["run", "synthesize"]

P50_GOAL_MS = 15.0
RECALL_GOAL = 0.98
EFS = (0, 50, 100, 200, 300, 500)  # 0: the server's default
HIGH_EF = 500
DEFAULT_EF: int = Settings.model_fields["search_ef"].default
assert DEFAULT_EF in EFS, "the recall table must have a column for ragis's default EF"
PER_DOC = 100


def synthesize(real: np.ndarray, n: int, *, seed: int = 5, noise: float = 0.02) -> np.ndarray:
    """`n` embedding-like unit vectors: the real ones first, then random convex mixtures of
    three real embeddings plus Gaussian noise (sigma `noise` per dimension), normalised."""
    rng = np.random.default_rng(seed)
    if n <= len(real):
        return real[:n].astype(np.float32)
    extra = n - len(real)
    picks = rng.integers(0, len(real), size=(extra, 3))
    weights = rng.dirichlet(np.ones(3), size=extra).astype(np.float32)
    mixed = np.einsum("nk,nkd->nd", weights, real[picks])
    mixed += rng.normal(0.0, noise, size=mixed.shape).astype(np.float32)
    mixed /= np.linalg.norm(mixed, axis=1, keepdims=True)
    return np.vstack([real, mixed]).astype(np.float32)


async def _load(
    store: Store, name: str, vectors: np.ndarray, texts: list[str], model: str
) -> float:
    """Write `vectors` as chunks of documents of `PER_DOC` chunks, as the indexing service does
    (`DocumentRegistry.write_chunks`); returns VADD+HSET seconds."""
    info = await store.collections.ensure(name, model=model, dim=vectors.shape[1])
    spent = 0.0
    for d, start in enumerate(range(0, len(vectors), PER_DOC)):
        doc_id = f"d{d:05d}"
        rows = range(start, min(start + PER_DOC, len(vectors)))
        record = await store.documents.begin(
            name,
            DocumentRecord(
                id=doc_id, filename=f"{doc_id}.txt", content_type="text/plain", size=1,
                sha256=f"sha-{name}-{doc_id}", chunk_count=len(rows),
            ),
        )  # fmt: skip
        chunks = [ChunkText(texts[i % len(texts)], i - start) for i in rows]
        t = time.perf_counter()
        await store.documents.write_chunks(info, record, chunks, vectors[rows.start : rows.stop])
        spent += time.perf_counter() - t
        await store.documents.mark_ready(name, doc_id)
    return spent


async def _top10(store: Store, info: Any, query: np.ndarray, ef: int) -> list[str]:
    """The data layer's own VSIM (every shard, merged): ids of the 10 nearest."""
    found = await store.vectors.search(info, query, k=10, ef=ef or None)
    return [h.id for h in getattr(found, "hits", found)]


async def _vector_bytes(redis: Redis, store: Store, info: Any) -> int:
    """MEMORY USAGE of the collection's vector set(s)."""
    ck = store.keys.collection(info.name)
    keys = [s.vectors for s in ck.shards(info.shards)] if hasattr(ck, "shards") else [ck.vectors]
    return sum([int(await redis.execute_command("MEMORY", "USAGE", k) or 0) for k in keys])


def run(ctx: Context) -> Section:
    return asyncio.run(_run(ctx))


async def _run(ctx: Context) -> Section:
    section = Section(
        "retrieval",
        "3. Retrieval stage at 10k and 100k chunks",
    )
    stack, embedder = ctx.stack, ctx.embedder
    assert stack is not None
    assert embedder is not None
    real_texts = list(ctx.raw_vectors)
    real = np.vstack([ctx.raw_vectors[t] for t in real_texts]).astype(np.float32)
    sizes = (1_000, 3_000) if ctx.quick else (10_000, 100_000)
    # NOQUANT at 100k takes ~4 min to load on 2 cores (~415 VADD/s): only with --all-100k.
    big_quants = ("Q8", "NOQUANT", "BIN") if ctx.options.get("all_100k") else ("Q8", "BIN")
    configs = [(sizes[0], q) for q in ("Q8", "NOQUANT", "BIN")]
    configs += [(sizes[1], q) for q in big_quants]
    n_queries = 20 if ctx.quick else 200
    qs = questions(ctx.flat_chunks, n_queries)
    qvecs = await embedder.embed(qs)
    section.intro = (
        f"Corpus: the {len(real)} real chunk embeddings of section 2 (embedding 100k real "
        "chunks here would take hours), plus synthetic embedding-like vectors: random convex "
        "mixtures of three real embeddings with Gaussian noise (σ = 0.02 per dimension), "
        f"normalised. Queries: {n_queries} real questions (openings of corpus sentences), "
        "embedded by the default backend. The retrieval stage is what a chat turn does before "
        "the LLM: embed the question, `VSIM` top-5 (ragis's `Retriever.search`), fetch the chunk "
        "texts and document states in one round trip; measured in-process on the RAG service's "
        "kind of client (redis-py asyncio) against the embedded Redis 8. Recall@10 compares "
        "`VSIM COUNT 10` with exact search (numpy, fp32 dot products) over the same vectors."
    )
    redis = Redis.from_url(stack.redis_url)
    rows_lat, rows_recall, rows_mem = [], [], []
    recall_series: dict[str, tuple[list[float], list[float]]] = {}
    default_p50_large = float("nan")
    default_recall_large = float("nan")
    try:
        for size, quant in configs:
            vectors = synthesize(real, size)
            prefix = f"ret{size}{quant.lower()}"
            settings = load_settings(
                _env_file=None, redis_url=stack.redis_url, key_prefix=prefix, quantization=quant
            )
            store = Store.create(redis, settings)  # ragis's defaults (EF = DEFAULT_EF)
            # The same collection searched without an EF: VSIM's own default.
            server_ef = Store.create(redis, settings.model_copy(update={"search_ef": 0}))
            name = "c"
            used_before = (await redis.info("memory"))["used_memory"]
            write_s = await _load(store, name, vectors, real_texts, embedder.model_name)
            used_after = (await redis.info("memory"))["used_memory"]
            info = await store.collections.require(name)
            vset_bytes = await _vector_bytes(redis, store, info)
            rows_mem.append(
                [f"{size:,}", quant, f"{size / write_s:,.0f}", f"{vset_bytes / size:,.0f}",
                 f"{(used_after - used_before) / size:,.0f}"]
            )  # fmt: skip
            # Exact top-10 for recall.
            exact = np.argsort(-(qvecs @ vectors.T), axis=1)[:, :10]
            ids = np.array([chunk_id(f"d{i // PER_DOC:05d}", i % PER_DOC) for i in range(size)])
            recalls = []
            for ef in EFS:
                found = 0
                for qi, qv in enumerate(qvecs):
                    got = set(await _top10(server_ef if ef == 0 else store, info, qv, ef))
                    found += len(got & set(ids[exact[qi]].tolist()))
                recalls.append(found / (10 * len(qvecs)))
            recall_series[f"{quant} {size // 1000}k"] = (
                [float(e or 10) for e in EFS], recalls,
            )  # fmt: skip
            rows_recall.append([f"{size:,}", quant, *[f"{r:.3f}" for r in recalls]])
            # The retrieval stage, as a chat turn runs it.
            runs: list[tuple[str, Store, int | None]] = [(f"{DEFAULT_EF} (ragis)", store, None)]
            if quant == "Q8":
                runs += [("server default", server_ef, None), (str(HIGH_EF), store, HIGH_EF)]
            for label, searcher, run_ef in runs:
                embed_ms, search_ms, total_ms = [], [], []
                for q in qs:
                    t0 = time.perf_counter()
                    v = (await embedder.embed([q]))[0]
                    t1 = time.perf_counter()
                    await searcher.retriever.search(name, v, k=5, ef=run_ef)
                    t2 = time.perf_counter()
                    embed_ms.append((t1 - t0) * 1000)
                    search_ms.append((t2 - t1) * 1000)
                    total_ms.append((t2 - t0) * 1000)
                rows_lat.append(
                    [f"{size:,}", quant, label,
                     f"{percentile(embed_ms, 50):.2f} / {percentile(embed_ms, 99):.2f}",
                     f"{percentile(search_ms, 50):.2f} / {percentile(search_ms, 99):.2f}",
                     f"{percentile(total_ms, 50):.2f} / {percentile(total_ms, 99):.2f}"]
                )  # fmt: skip
                if size == sizes[1] and quant == "Q8" and searcher is store and run_ef is None:
                    default_p50_large = percentile(total_ms, 50)
                    default_recall_large = recalls[EFS.index(DEFAULT_EF)]
            await store.collections.delete(name)
    finally:
        await redis.aclose()
    section.tables.append(
        Table(
            "Retrieval stage latency, ms p50 / p99",
            ["chunks", "quantization", "EF", "embed question", "VSIM + fetch", "retrieval stage"],
            rows_lat,
        )
    )
    section.tables.append(
        Table(
            "Recall@10 vs exact search, by EF (0: the server's default)",
            ["chunks", "quantization", *[f"EF {e}" if e else "EF default" for e in EFS]],
            rows_recall,
        )
    )
    section.tables.append(
        Table(
            "Write speed and memory per chunk",
            [
                "chunks",
                "quantization",
                "VADD+HSET chunks/s (ragis DocumentRegistry.write_chunks, pipelined)",
                "vector set bytes/chunk (MEMORY USAGE)",
                "used_memory bytes/chunk (with chunk text)",
            ],
            rows_mem,
        )
    )
    if not ctx.options.get("all_100k") and not ctx.quick:
        section.notes.append(
            "NOQUANT at 100k is left out to keep the run under 15 minutes (loading it alone "
            "takes ~4 min at ~415 VADD/s on 2 cores); `python -m bench --all-100k` adds it."
        )
    section.notes.append(
        f"ragis sends EF {DEFAULT_EF} by default (`RAGIS_VECTOR_EF`); `EF default` is VSIM's own "
        "default, used when ragis sends no EF (`RAGIS_VECTOR_EF=0`): it matches the EF 100 "
        "column. Real vectors are 1 in 6 at 10k and 1 in 60 at 100k; the "
        "synthetic mixtures may crowd the space more evenly than real chunks do, so recall on "
        "a real 100k corpus may differ (FACTS.md measured 0.99 with other synthetic vectors)."
    )
    path, rel = ctx.plot("recall")
    line_chart(
        path, recall_series, xlabel="EF (default plotted at 10)", ylabel="recall@10",
        title="VSIM recall@10 vs exact search", hline=RECALL_GOAL, logx=True,
    )  # fmt: skip
    section.plots.append((rel, "recall by EF"))
    big = f"{sizes[1] // 1000}k"
    section.goals.append(
        Goal(f"retrieval stage p50 at {big} (Q8, EF {DEFAULT_EF}: the defaults)",
             f"≤ {P50_GOAL_MS:.0f} ms",
             f"{default_p50_large:.1f} ms", default_p50_large <= P50_GOAL_MS)
    )  # fmt: skip
    section.goals.append(
        Goal(f"recall@10 at {big} with defaults (Q8, EF {DEFAULT_EF})", f"≥ {RECALL_GOAL}",
             f"{default_recall_large:.3f}", default_recall_large >= RECALL_GOAL)
    )  # fmt: skip
    return section
