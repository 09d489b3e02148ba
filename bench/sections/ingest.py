"""Ingestion end to end: files uploaded through the gateway until searchable, in chunks/s, with
the time per stage, against the raw throughput of the same embedder on the same chunks."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from typing import Any

import httpx

from bench.context import Context
from bench.corpus import Document
from bench.plots import stacked_bars
from bench.report import Goal, Section, Table, fmt_ratio
from bench.stats import summarize
from ragis.embedding import Embedder
from ragis.store.chunks import ChunkStore
from ragis.store.vectors import VectorIndex

__all__ = ["COLLECTION", "TimedEmbedder", "run", "timed_writes", "upload"]

COLLECTION = "bench"
GOAL = 0.9


class TimedEmbedder(Embedder):
    """Passes every call to `inner` and adds up the time spent in it (the RAG service's embed
    stage, as seen from inside the service)."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.model_name, self.dim, self.max_tokens = inner.model_name, inner.dim, inner.max_tokens
        self.seconds = 0.0

    async def embed(self, texts: Any) -> Any:
        t = time.perf_counter()
        try:
            return await self.inner.embed(texts)
        finally:
            self.seconds += time.perf_counter() - t

    def describe(self) -> str:
        return self.inner.describe()


@contextlib.contextmanager
def timed_writes() -> Iterator[list[float]]:
    """Adds up the time of the data layer's vector and chunk writes (VADD and HSET pipelines)."""
    spent = [0.0]
    originals = (VectorIndex.add, ChunkStore.put_many)

    def wrap(fn: Any) -> Any:
        async def timed(*args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return await fn(*args, **kwargs)
            finally:
                spent[0] += time.perf_counter() - t

        return timed

    VectorIndex.add = wrap(originals[0])  # type: ignore[method-assign]
    ChunkStore.put_many = wrap(originals[1])  # type: ignore[method-assign]
    try:
        yield spent
    finally:
        VectorIndex.add, ChunkStore.put_many = originals  # type: ignore[method-assign]


async def upload(
    client: httpx.AsyncClient, filename: str, data: bytes, collection: str
) -> dict[str, Any]:
    response = await client.post(
        "/api/documents/upload",
        files={"file": (filename, data, "text/plain")},
        data={"collection": collection},
    )
    response.raise_for_status()
    result: dict[str, Any] = response.json()["results"][0]
    if not result["ok"]:
        raise RuntimeError(f"upload of {filename} failed: {result['error']}")
    return result


def run(ctx: Context) -> Section:
    return asyncio.run(_run(ctx))


async def _run(ctx: Context) -> Section:
    section = Section(
        "ingest",
        "2. Ingestion end to end",
        "Each document is uploaded as a file to the gateway (`POST /api/documents/upload`), "
        "which parses and chunks it and sends the chunks to the RAG service, which embeds them "
        "(batches of 32) and writes them to Redis (VADD FP32 + chunk hashes, overlapped with "
        "the next batch's embedding); the response comes when the document is searchable. "
        "Documents alternate with a raw run of the same embedder on the same chunks (no HTTP, "
        "no Redis), so both see the same machine load.",
    )
    stack, embedder = ctx.stack, ctx.embedder
    assert stack is not None
    assert embedder is not None
    timed: TimedEmbedder = ctx.timed
    n_docs = len(ctx.docs)
    n_pdfs = sum(d.filename.endswith(".pdf") for d in ctx.docs)
    raw_s = ingest_s = 0.0
    stages = {"parse": 0.0, "chunk": 0.0, "embed": 0.0, "other": 0.0}
    write_s = 0.0
    chunks_total = 0
    per_doc_ratio = []
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=600) as client:
        with timed_writes() as written:
            for i, (doc, texts) in enumerate(zip(ctx.docs, ctx.chunks, strict=True)):

                async def raw(texts: list[str] = texts) -> float:
                    t = time.perf_counter()
                    vectors = await embedder.embed(texts)
                    elapsed = time.perf_counter() - t
                    ctx.raw_vectors.update(zip(texts, vectors, strict=True))
                    return elapsed

                async def ingest(doc: Document = doc) -> tuple[float, dict[str, Any]]:
                    before_embed = timed.seconds
                    t = time.perf_counter()
                    result = await upload(client, doc.filename, doc.data, COLLECTION)
                    result["embed_s"] = timed.seconds - before_embed
                    return time.perf_counter() - t, result

                if i % 2 == 0:
                    r_s = await raw()
                    i_s, result = await ingest()
                else:
                    i_s, result = await ingest()
                    r_s = await raw()
                if result["chunks"] != len(texts):
                    raise RuntimeError(
                        f"{doc.filename}: the gateway made {result['chunks']} chunks, "
                        f"the local chunker {len(texts)}"
                    )
                raw_s += r_s
                ingest_s += i_s
                chunks_total += len(texts)
                per_doc_ratio.append(r_s / i_s)
                timings = result["timings"]
                stages["parse"] += timings["parse_ms"] / 1000
                stages["chunk"] += timings["chunk_ms"] / 1000
                stages["embed"] += result["embed_s"]
                stages["other"] += (
                    i_s
                    - timings["parse_ms"] / 1000
                    - timings["chunk_ms"] / 1000
                    - result["embed_s"]
                )
            write_s = written[0]
    raw_rate = chunks_total / raw_s
    ingest_rate = chunks_total / ingest_s
    ratio = ingest_rate / raw_rate
    spread = summarize(per_doc_ratio)
    section.tables.append(
        Table(
            f"{n_docs} documents ({n_pdfs} of them PDFs), {chunks_total} chunks, "
            f"backend {ctx.backend}",
            ["measure", "value"],
            [
                ["raw embedding (same embedder, same chunks)", f"{raw_rate:.1f} chunks/s"],
                ["upload → searchable through the gateway", f"{ingest_rate:.1f} chunks/s"],
                ["ingestion / raw (all chunks)", fmt_ratio(ratio)],
                ["ingestion / raw per document", spread.fmt(3, "×")],
            ],
        )
    )
    total = sum(stages.values())
    section.tables.append(
        Table(
            "Where the ingestion time goes (sum over documents)",
            ["stage", "seconds", "share", "per chunk (ms)"],
            [
                [
                    name,
                    f"{sec:.2f}",
                    f"{sec / total * 100:.1f}%",
                    f"{sec / chunks_total * 1000:.2f}",
                ]
                for name, sec in stages.items()
            ]
            + [
                [
                    "write: VADD + chunk hashes (overlapped with embed, not in the total)",
                    f"{write_s:.2f}",
                    "",
                    f"{write_s / chunks_total * 1000:.2f}",
                ]
            ],
        )
    )
    section.notes.append(
        "`other` is the upload's wall time minus parse, chunk and embed: HTTP and JSON between "
        "gateway and RAG service, the document record, the last batch's write (the only one not "
        "hidden behind embedding) and the event loops."
    )
    path, rel = ctx.plot("ingest")
    stacked_bars(
        path, ["raw embedding", "ingestion"],
        {"embed": [raw_s, stages["embed"]], "parse": [0, stages["parse"]],
         "chunk": [0, stages["chunk"]], "other": [0, stages["other"]]},
        ylabel="seconds for the corpus",
        title=f"Ingestion of {chunks_total} chunks vs raw embedding",
    )  # fmt: skip
    section.plots.append((rel, "ingestion stages"))
    section.goals.append(
        Goal("ingestion vs raw embedding (chunks/s)", f"≥ {GOAL}×", fmt_ratio(ratio), ratio >= GOAL)
    )
    return section
