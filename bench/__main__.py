"""`python -m bench [--quick] [--out DIR] [--only SECTIONS] [--cache DIR]`: run the benchmarks
and write DIR/benchmarks.md (default: docs/) with its plots in DIR/img/."""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from bench.context import Context
from bench.corpus import chunk_documents, load_documents
from bench.machine import describe_machine, load_average
from bench.report import Section, write_report

SECTIONS = (
    "embedding", "ingest", "retrieval", "chat", "peers", "cache", "hostile", "memory", "auth",
    "hybrid",
    "quality", "openai", "sync",
    "observability",
    "backup",
    "reindex",
)  # fmt: skip
TITLES = {
    "embedding": "1. Embedding backends",
    "ingest": "2. Ingestion end to end",
    "retrieval": "3. Retrieval stage at 10k and 100k chunks",
    "chat": "4. Chat overhead",
    "peers": "5. Peers: LangChain + Chroma, RedisVL",
    "cache": "6. Semantic cache: near misses and paraphrases",
    "hostile": "7. Hostile uploads: the gateway's memory",
    "memory": "8. Memory of the RAG service",
    "auth": "9. Authentication: what it adds to a request",
    "hybrid": "10. Hybrid retrieval: latency, ingest cost and memory of the keyword index",
    "quality": "11. Retrieval quality: hybrid search and the grounded gate",
    "openai": "13. OpenAI-compatible API: what /v1 adds to the time to first token",
    "sync": "14. Folder sync: an unchanged re-sync against the first",
    "observability": "15. Observability: what metrics and traces add to a chat turn",
    "backup": "16. Backup and restore",
    "reindex": "17. Reindex: re-embedding a collection",
}

log = logging.getLogger("bench")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny corpus, about a minute")
    parser.add_argument("--out", type=Path, default=Path("docs"), help="report folder (docs)")
    parser.add_argument(
        "--only", default=",".join(SECTIONS), help=f"comma-separated, of {', '.join(SECTIONS)}"
    )
    parser.add_argument(
        "--cache", type=Path, default=None, help="model cache to reuse (default: a fresh one)"
    )
    parser.add_argument(
        "--all-100k", action="store_true", help="also NOQUANT at 100k chunks (+4 min on 2 cores)"
    )
    return parser.parse_args(argv)


def _section(ctx: Context, key: str, fn: Callable[[Context], Section]) -> Section:
    log.info("section %s ...", key)
    started = time.perf_counter()
    try:
        section = fn(ctx)
    except Exception as exc:
        log.error("section %s failed:\n%s", key, traceback.format_exc())
        section = Section(key, TITLES[key], error=f"{type(exc).__name__}: {exc}")
    section.seconds = time.perf_counter() - started
    log.info("section %s done in %.0f s", key, section.seconds)
    return section


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    for name in ("bench", "ragis.embedding"):
        logging.getLogger(name).setLevel(logging.INFO)
    wanted = {s.strip() for s in args.only.split(",") if s.strip()}
    unknown = wanted - set(SECTIONS)
    if unknown:
        print(f"unknown sections: {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    if wanted & {"retrieval", "chat", "peers", "openai"}:
        wanted.add("ingest")  # they search what ingestion indexed
    started = time.perf_counter()
    machine = describe_machine()
    work = Path(tempfile.mkdtemp(prefix="ragis-bench-"))
    try:
        return _run(args, wanted, machine, work, started)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run(args: argparse.Namespace, wanted: set[str], machine, work: Path, started: float) -> int:  # type: ignore[no-untyped-def]
    from bench.llm import LoopbackLLM
    from bench.sections import (
        auth,
        cache,
        chat,
        embedding,
        hostile,
        hybrid,
        ingest,
        memory,
        openai_api,
        peers,
        quality,
        retrieval,
        sync,
    )
    from bench.servers import start_stack
    from ragis.gateway.settings import GatewaySettings
    from ragis.ingest import Chunker

    defaults = GatewaySettings.model_fields
    chunker = Chunker(defaults["chunk_tokens"].default, defaults["chunk_overlap"].default)
    docs = load_documents(6_000 if args.quick else 1_050_000)
    log.info("corpus: %d documents; chunking ...", len(docs))
    ctx = Context(
        quick=args.quick, out=args.out, work=work, cache=args.cache or work / "models",
        machine=machine, docs=docs, chunks=chunk_documents(docs, chunker),
        options={"all_100k": args.all_100k},
    )  # fmt: skip
    log.info("corpus: %d chunks", len(ctx.flat_chunks))
    sections = [_section(ctx, "embedding", embedding.run)]
    if ctx.embedder is not None and wanted & {
        "ingest", "retrieval", "chat", "peers", "auth", "openai", "sync",
    }:  # fmt: skip
        with LoopbackLLM() as llm:
            ctx.llm = llm
            ctx.timed = ingest.TimedEmbedder(ctx.embedder)
            with start_stack(work, ctx.timed, llm_base_url=llm.base_url) as stack:
                ctx.stack = stack
                machine.redis_version = _redis_version(stack.redis_url)
                for key, module in (
                    ("ingest", ingest), ("retrieval", retrieval), ("chat", chat), ("peers", peers),
                    ("auth", auth), ("openai", openai_api), ("sync", sync),
                ):  # fmt: skip
                    if key in wanted:
                        sections.append(_section(ctx, key, module.run))
    if ctx.embedder is not None and "cache" in wanted:
        sections.append(_section(ctx, "cache", cache.run))  # the model only: no stack
    if "hostile" in wanted:  # its own gateway process, no RAG service behind it
        sections.append(_section(ctx, "hostile", hostile.run))
    if "memory" in wanted:  # its own RAG service processes, on a fresh model cache
        sections.append(_section(ctx, "memory", memory.run))
    if ctx.embedder is not None and "hybrid" in wanted:  # its own Redis, the model only
        sections.append(_section(ctx, "hybrid", hybrid.run))
    if ctx.embedder is not None and "quality" in wanted:  # its own Redis, RAG service, gateway
        sections.append(_section(ctx, "quality", quality.run))
    if ctx.embedder is not None and "observability" in wanted:  # its own Redis and services
        from bench.sections import observability

        sections.append(_section(ctx, "observability", observability.run))
    if "backup" in wanted:  # its own Redis, no model
        from bench.sections import backup

        sections.append(_section(ctx, "backup", backup.run))
    if ctx.embedder is not None and "reindex" in wanted:  # its own Redis, the model only
        from bench.sections import reindex

        sections.append(_section(ctx, "reindex", reindex.run))
    machine.load_after = load_average()
    seconds = time.perf_counter() - started
    report = args.out / "benchmarks.md"
    write_report(report, machine, sections, quick=args.quick, seconds=seconds)
    log.info("wrote %s in %.0f s", report, seconds)
    return 1 if any(s.error for s in sections) else 0


def _redis_version(url: str) -> str:
    import redis

    client = redis.Redis.from_url(url)
    try:
        return str(client.info("server")["redis_version"])
    finally:
        client.close()


if __name__ == "__main__":
    sys.exit(main())
