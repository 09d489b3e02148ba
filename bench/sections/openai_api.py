"""What the OpenAI-compatible API adds to the time to first token, against the native stream.

One gateway process in front of one RAG service, with the loopback LLM that answers at once
(`bench/llm.py`), so that what is left is ragis. The same kind of question goes to
`POST /api/chat/stream` (the web UI's SSE: the first `token` event) and to
`POST /v1/chat/completions` with `stream: true` (OpenAI's chunks: the first chunk with content),
alternately, each round's first route swapped, so that the machine's load shifts both alike.
Every question is new; a round in which either answer came from the semantic cache is dropped
(its time would be the cache's, not the route's). What `/v1` adds is the difference of the
medians, and the median of the per-round differences: parsing OpenAI's request, translating each
event, and a stateless turn (the conversation inline) instead of a new session.

Run alone with `python -m bench.sections.openai_api [--quick] [--out docs]`: it ingests a small
corpus into its own stack, then replaces this section in docs/benchmarks.md and leaves the rest
of the report as it is.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from bench.context import Context
from bench.corpus import load_documents, questions
from bench.report import Goal, Section, Table, replace_section
from bench.sections.ingest import COLLECTION
from bench.servers import Stack, start_stack
from bench.stats import percentile
from ragis.embedding.cpu import detect_cpu

__all__ = ["GOAL_MS", "TITLE", "measure", "run"]

TITLE = "13. OpenAI-compatible API: what /v1 adds to the time to first token"  # as in TITLES
GOAL_MS = 1.0
NATIVE = "/api/chat/stream"
OPENAI = "/v1/chat/completions"
WARMUP = 5


def run(ctx: Context) -> Section:
    assert ctx.stack is not None, "the openai section runs inside the benchmark's stack"
    rounds = 40 if ctx.quick else 300
    pool = questions(ctx.flat_chunks, 2 * (rounds + WARMUP), seed=131)
    return _section(asyncio.run(measure(ctx.stack, pool, rounds=rounds)))


async def measure(stack: Stack, pool: Sequence[str], *, rounds: int) -> dict[str, Any]:
    """Per route, the times to first token in ms of the rounds that missed the cache (one list
    per route, same length), and how many rounds were dropped."""
    asked = iter(pool)
    times: dict[str, list[float]] = {"native": [], "openai": []}
    dropped = 0
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=120) as client:
        for i in range(WARMUP + rounds):
            order = ("native", "openai") if i % 2 == 0 else ("openai", "native")
            got: dict[str, tuple[float, bool]] = {}
            for route in order:
                ask = _native if route == "native" else _openai
                got[route] = await ask(client, next(asked))
            if i < WARMUP:
                continue
            if any(hit for _, hit in got.values()):
                dropped += 1
                continue
            for route, (ttft, _) in got.items():
                times[route].append(ttft)
    return {"times": times, "rounds": rounds, "dropped": dropped}


async def _native(client: httpx.AsyncClient, question: str) -> tuple[float, bool]:
    """Time to the first `token` event, and whether the answer was a cache hit."""
    body = {"message": question, "collection": COLLECTION}
    started = time.perf_counter()
    ttft = float("nan")
    event, hit = "", False
    async with client.stream("POST", NATIVE, json=body) as response:
        response.raise_for_status()
        async for line in response.aiter_lines():
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                if event == "token" and ttft != ttft:
                    ttft = (time.perf_counter() - started) * 1000
                elif event == "meta":
                    hit = bool(json.loads(line[5:])["cache_hit"])
                elif event == "error":
                    raise RuntimeError(f"chat failed: {line}")
    return ttft, hit


async def _openai(client: httpx.AsyncClient, question: str) -> tuple[float, bool]:
    """Time to the first chunk with content, and whether the answer was a cache hit."""
    body = {
        "model": f"ragis/{COLLECTION}",
        "stream": True,
        "messages": [{"role": "user", "content": question}],
    }
    started = time.perf_counter()
    ttft = float("nan")
    hit = False
    async with client.stream("POST", OPENAI, json=body) as response:
        response.raise_for_status()
        async for line in response.aiter_lines():
            if not line.startswith("data: {"):
                continue
            # The first chunk carries the role and an empty content: not yet a token.
            if ttft != ttft and '"content":"' in line and '"content":""' not in line:
                ttft = (time.perf_counter() - started) * 1000
            if '"error"' in line and line.startswith('data: {"error"'):
                raise RuntimeError(f"chat failed: {line}")
            if '"ragis"' in line:
                hit = bool(json.loads(line[6:])["ragis"]["cache_hit"])
    return ttft, hit


def _section(result: dict[str, Any]) -> Section:
    times: dict[str, list[float]] = result["times"]
    native, openai = times["native"], times["openai"]
    added = statistics.median(openai) - statistics.median(native)
    paired = statistics.median(o - n for o, n in zip(openai, native, strict=True))
    rows = [
        [f"native SSE (`POST {NATIVE}`)", *_spread(native), "—", "—"],
        [
            f"OpenAI chunks (`POST {OPENAI}`, stream)",
            *_spread(openai),
            f"{added:+.2f}",
            f"{paired:+.2f}",
        ],
    ]
    return Section(
        key="openai",
        title=TITLE,
        intro=(
            f"Time to first token through one gateway process, by route: {len(native)} "
            f"interleaved rounds of new questions after {WARMUP} of warm-up "
            f"({result['dropped']} rounds dropped for a cache hit), one keep-alive connection, "
            "the loopback LLM answering at once. Measured by an httpx client from sending the "
            f"request to the first token, on {_cpu()}."
        ),
        tables=[
            Table(
                "Time to first token, ms",
                ["route", "p50 ms", "p95 ms", "p50 − native", "median of per-round Δ"],
                rows,
            )
        ],
        goals=[
            Goal(
                "TTFT through /v1/chat/completions minus the native /api/chat/stream (p50)",
                f"≤ {GOAL_MS:g} ms",
                f"{added:+.2f} ms (per-round median {paired:+.2f})",
                added <= GOAL_MS,
            )
        ],
        notes=[
            "Both routes run the same pipeline (retrieval, cache lookup, prompt, LLM) in the RAG "
            "service; `/v1` adds the parsing of OpenAI's request, one translation per event "
            "(a pydantic model dumped to JSON) and an opening chunk with the role. Its turn is "
            "stateless (the conversation comes inline): no session is written, where the native "
            "route writes one after the answer.",
        ],
    )


def _spread(values: list[float]) -> list[str]:
    return [f"{statistics.median(values):.2f}", f"{percentile(values, 95):.2f}"]


def _cpu() -> str:
    """The CPU of this run: a section run by itself may not run on the report's machine."""
    cpu = detect_cpu()
    return f"{cpu.model} ({cpu.arch}, {cpu.cores} cores)"


def _ingest(stack: Stack, max_chars: int) -> list[str]:
    """Upload a small corpus into the benchmark's collection; the chunks' texts, for questions."""
    from bench.corpus import chunk_documents
    from ragis.gateway.settings import GatewaySettings
    from ragis.ingest import Chunker

    docs = load_documents(max_chars)
    with httpx.Client(base_url=stack.gateway_url, timeout=300) as client:
        for doc in docs:
            answer = client.post(
                "/api/documents/upload",
                files=[("file", (doc.filename, doc.data))],
                data={"collection": COLLECTION},
            )
            answer.raise_for_status()
    defaults = GatewaySettings.model_fields
    chunker = Chunker(defaults["chunk_tokens"].default, defaults["chunk_overlap"].default)
    return [c for chunks in chunk_documents(docs, chunker) for c in chunks]


def main(argv: Sequence[str] | None = None) -> int:
    from bench.llm import LoopbackLLM
    from ragis.embedding.select import load_embedder

    parser = argparse.ArgumentParser(prog="python -m bench.sections.openai_api")
    parser.add_argument("--quick", action="store_true", help="40 rounds instead of 300")
    parser.add_argument("--out", type=Path, default=Path("docs"), help="report folder (docs)")
    args = parser.parse_args(argv)
    rounds = 40 if args.quick else 300
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="ragis-bench-openai-") as work:
        embedder = load_embedder("torch-fp32", cache_dir=Path(work) / "models")
        with (
            LoopbackLLM() as llm,
            start_stack(Path(work), embedder, llm_base_url=llm.base_url) as stack,
        ):
            chunks = _ingest(stack, 60_000 if args.quick else 300_000)
            pool = questions(chunks, 2 * (rounds + WARMUP), seed=131)
            result = asyncio.run(measure(stack, pool, rounds=rounds))
    section = _section(result)
    section.seconds = time.perf_counter() - started
    print(replace_section(args.out / "benchmarks.md", section))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
