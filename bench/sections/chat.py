"""Chat overhead with a loopback LLM that answers at once: what ragis adds to the LLM's time to
first token, the gateway's own share, a semantic-cache hit, and concurrent chats."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx

from bench.context import Context
from bench.corpus import questions
from bench.llm import MODEL
from bench.plots import line_chart
from bench.report import Goal, Section, Table
from bench.sections.ingest import COLLECTION
from bench.servers import Stack
from bench.stats import percentile
from ragis.contract import DEFAULT_WORKSPACE, LOCAL_USER, Caller

__all__ = ["chat_once", "run"]

OVERHEAD_GOAL_MS = 20.0
GATEWAY_GOAL_MS = 2.0
CACHE_GOAL_MS = 20.0
LEVELS = (1, 8, 32)


async def chat_once(client: httpx.AsyncClient, path: str, message: str) -> dict[str, Any]:
    """One chat turn over SSE: time to the first token and to the end, and the events' data."""
    t = time.perf_counter()
    ttft = float("nan")
    out: dict[str, Any] = {}
    event = ""
    body = {"message": message, "collection": COLLECTION}
    async with client.stream("POST", path, json=body) as response:
        response.raise_for_status()
        async for line in response.aiter_lines():
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                if event == "token" and ttft != ttft:
                    ttft = (time.perf_counter() - t) * 1000
                if event in ("meta", "done", "error"):
                    out[event] = json.loads(line[5:])
    out["ttft_ms"], out["total_ms"] = ttft, (time.perf_counter() - t) * 1000
    if "error" in out:
        raise RuntimeError(f"chat failed: {out['error']}")
    return out


async def _llm_direct(client: httpx.AsyncClient, base_url: str) -> float:
    body = {
        "model": MODEL,
        "stream": True,
        "messages": [{"role": "user", "content": "hello"}],
    }
    t = time.perf_counter()
    async with client.stream("POST", f"{base_url}/chat/completions", json=body) as response:
        async for line in response.aiter_lines():
            if line.startswith("data:") and '"content"' in line:
                return (time.perf_counter() - t) * 1000
    raise RuntimeError("the loopback LLM sent no token")


def run(ctx: Context) -> Section:
    return asyncio.run(_run(ctx))


async def _run(ctx: Context) -> Section:
    section = Section(
        "chat",
        "4. Chat overhead",
        "A loopback OpenAI-compatible server (`bench/llm.py`) streams its answer at once, so "
        "what remains is ragis: the gateway relaying SSE, the RAG service's turn (session read, "
        "embed the question, semantic-cache lookup, VSIM, chunk fetch, prompt) and the OpenAI "
        "client. Every question is new (a cache miss) unless said otherwise. Time to first "
        "token (TTFT) is measured by an httpx client from sending the request to the first "
        "`token` event.",
    )
    stack, llm = ctx.stack, ctx.llm
    n = 12 if ctx.quick else 60
    pool = iter(questions(ctx.flat_chunks, 4 * n + sum(LEVELS) * 3 + 40, seed=23))
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with (
        httpx.AsyncClient(base_url=stack.gateway_url, timeout=120, limits=limits) as gw,
        httpx.AsyncClient(
            base_url=stack.rag_url, timeout=120, limits=limits, headers=_as_gateway(stack)
        ) as rag,
        httpx.AsyncClient(timeout=30) as direct,
    ):
        for _ in range(3):  # warm-up: connections, code paths
            await chat_once(gw, "/api/chat/stream", next(pool))
            await chat_once(rag, "/chat/stream", next(pool))
            await _llm_direct(direct, llm.base_url)
        llm_ms: list[float] = []
        gw_runs: list[dict[str, Any]] = []
        rag_runs: list[dict[str, Any]] = []
        server_marks = len(llm.server_ttft_ms)
        for i in range(n):
            llm_ms.append(await _llm_direct(direct, llm.base_url))
            first, second = (gw, rag) if i % 2 == 0 else (rag, gw)
            for client in (first, second):
                path = "/api/chat/stream" if client is gw else "/chat/stream"
                result = await chat_once(client, path, next(pool))
                (gw_runs if client is gw else rag_runs).append(result)
        server_ttft = llm.server_ttft_ms[server_marks:]
        # Cache hits: ask, then ask again (the second answer comes from the semantic cache).
        hits, misses_for_hits = [], 0
        for _ in range(max(n // 2, 6)):
            q = next(pool)
            await chat_once(gw, "/api/chat/stream", q)
            again = await chat_once(gw, "/api/chat/stream", q)
            if again["meta"]["cache_hit"]:
                hits.append(again)
            else:
                misses_for_hits += 1
        # Concurrency.
        conc_rows: list[list[Any]] = []
        conc_series: tuple[list[float], list[float]] = ([], [])
        for level in LEVELS:
            batch = [next(pool) for _ in range(level * 3 if not ctx.quick else level)]
            sem = asyncio.Semaphore(level)

            async def one(q: str, sem: asyncio.Semaphore = sem) -> dict[str, Any]:
                async with sem:
                    return await chat_once(gw, "/api/chat/stream", q)

            t = time.perf_counter()
            results = await asyncio.gather(*(one(q) for q in batch))
            wall = time.perf_counter() - t
            ttfts = [r["ttft_ms"] for r in results]
            conc_rows.append(
                [level, len(batch), f"{percentile(ttfts, 50):.1f}", f"{percentile(ttfts, 95):.1f}",
                 f"{len(batch) / wall:.1f}"]
            )  # fmt: skip
            conc_series[0].append(float(level))
            conc_series[1].append(percentile(ttfts, 95))

    def p(values: list[float], q: float) -> float:
        return percentile(values, q)

    gw_ttft = [r["ttft_ms"] for r in gw_runs]
    rag_ttft = [r["ttft_ms"] for r in rag_runs]
    overhead = p(gw_ttft, 50) - p(llm_ms, 50)
    gateway_share = p(gw_ttft, 50) - p(rag_ttft, 50)
    stage_rows = []
    for key in ("embed", "cache", "search", "first_token", "total"):
        values = [r["done"]["timings"][key] for r in gw_runs if key in r["done"]["timings"]]
        stage_rows.append([key, f"{p(values, 50):.2f}", f"{p(values, 99):.2f}"])
    section.tables.append(
        Table(
            f"Time to first token, ms ({n} new questions each, interleaved)",
            ["path", "p50", "p95", "p99"],
            [
                [
                    "LLM direct (client → loopback LLM)",
                    *(f"{p(llm_ms, q):.2f}" for q in (50, 95, 99)),
                ],
                [
                    "LLM server's own (request read → first token written)",
                    *(f"{p(server_ttft, q):.2f}" for q in (50, 95, 99)),
                ],
                [
                    "RAG service direct (`POST /chat/stream`)",
                    *(f"{p(rag_ttft, q):.2f}" for q in (50, 95, 99)),
                ],
                [
                    "through the gateway (`POST /api/chat/stream`)",
                    *(f"{p(gw_ttft, q):.2f}" for q in (50, 95, 99)),
                ],
            ],
        )
    )
    section.tables.append(
        Table(
            "The RAG service's own timings of those turns (`done.timings`, ms)",
            ["stage", "p50", "p99"],
            stage_rows,
        )
    )
    hit_ms = [r["total_ms"] for r in hits]
    section.tables.append(
        Table(
            "Semantic-cache hit answered in full through the gateway (request → `done`), ms",
            ["answers", "p50", "p95", "p99", "repeats that missed"],
            [
                [
                    len(hits),
                    f"{p(hit_ms, 50):.2f}",
                    f"{p(hit_ms, 95):.2f}",
                    f"{p(hit_ms, 99):.2f}",
                    misses_for_hits,
                ]
            ],
        )
    )
    section.tables.append(
        Table(
            "Concurrent chats through the gateway (new questions)",
            ["concurrency", "requests", "TTFT p50 ms", "TTFT p95 ms", "answers/s"],
            conc_rows,
        )
    )
    plot_path, rel = ctx.plot("chat-concurrency")
    line_chart(
        plot_path, {"TTFT p95": conc_series}, xlabel="concurrent chats", ylabel="ms",
        title="Time to first token under concurrency (loopback LLM)",
    )  # fmt: skip
    section.plots.append((rel, "TTFT p95 by concurrency"))
    section.goals += [
        Goal("TTFT through the gateway minus the LLM's own (p50)", f"≤ {OVERHEAD_GOAL_MS:.0f} ms",
             f"{overhead:.1f} ms", overhead <= OVERHEAD_GOAL_MS),
        Goal("gateway's share (gateway − RAG direct, p50)", f"≤ {GATEWAY_GOAL_MS:.0f} ms",
             f"{gateway_share:.2f} ms", gateway_share <= GATEWAY_GOAL_MS),
        Goal("cache hit in full through the gateway (p50)", f"≤ {CACHE_GOAL_MS:.0f} ms",
             f"{p(hit_ms, 50):.1f} ms", bool(hits) and p(hit_ms, 50) <= CACHE_GOAL_MS),
    ]  # fmt: skip
    section.notes.append(
        "The LLM's own TTFT is measured directly by the same kind of client, interleaved with "
        "the chats; the overhead is the difference of the medians."
    )
    return section


def _as_gateway(stack: Stack) -> dict[str, str]:
    """What the gateway (auth off) sends the RAG service: its token, the local user's
    workspace."""
    return {
        "Authorization": f"Bearer {stack.internal_token}",
        **Caller(DEFAULT_WORKSPACE, LOCAL_USER).headers(),
    }
