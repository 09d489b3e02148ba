"""What the services tell observability, one call each, from the edges of their work.

The services measure their own stages already (a chat turn's `done` event carries its
`timings`; an indexing's `IndexResult` its embed and write times): these functions turn those
numbers into metrics and, when tracing is on, into child spans of the request's span. They
cost a contextvar read when metrics and tracing are off, and never raise.

    chat_event(event, data)     every event of a chat stream (rag/routes/chat.py)
    parsed(...)                 a file parsed and chunked by the gateway (gateway/pipeline.py)
    indexed(...)                a document indexed (rag/routes/index.py)
    redis_error(exc)            a redis-py failure turned into RedisUnavailable (db/failures.py)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ragis.obs import metrics, tracing
from ragis.obs.logs import request_id_var

__all__ = ["chat_event", "indexed", "parsed", "redis_error"]

_REQUEST_ID = "ragis.request_id"


def chat_event(event: str, data: Mapping[str, Any]) -> None:
    """Record a chat turn from its `done` or `error` event (other events: nothing)."""
    if event == "done":
        _turn_done(data)
    elif event == "error":
        m = metrics.current()
        if m is None:
            return
        m.chat_turns.labels("error").inc()
        code = str(data.get("code", ""))
        if code.startswith("llm_") and len(code) <= 40:
            m.llm_errors.labels(code).inc()


def _turn_done(data: Mapping[str, Any]) -> None:
    timings: Mapping[str, float] = data.get("timings") or {}
    hit = bool(data.get("cache_hit"))
    m = metrics.current()
    if m is not None:
        m.chat_turns.labels("done").inc()
        for stage, ms in timings.items():
            if stage in metrics.CHAT_STAGES:
                m.chat_stage_seconds.labels(stage).observe(ms / 1000)
        if hit:
            m.cache_lookups.labels("hit").inc()
        elif timings.get("cache", 0.0) > 0.0:  # 0.0: no lookup (fresh turn, cache off)
            m.cache_lookups.labels("miss").inc()
        if "embed" in timings:
            m.embedded_texts.inc()
            m.embedding_seconds.inc(timings["embed"] / 1000)
    if tracing.tracer() is not None:
        _turn_spans(timings, hit)


def _turn_spans(timings: Mapping[str, float], hit: bool) -> None:
    # The turn's order: rewrite, embed, then the cache lookup and the search side by side
    # (a hit leaves the search unused), then the LLM's answer to the end.
    rewrite = timings.get("rewrite", 0.0)
    embed = timings.get("embed", 0.0)
    cache = timings.get("cache", 0.0)
    search = timings.get("search")
    stages: list[tuple[str, float, float]] = []
    if rewrite:
        stages.append(("llm.rewrite", 0.0, rewrite))
    stages.append(("embed", rewrite, embed))
    found = rewrite + embed
    if cache:
        stages.append(("redis.cache_lookup", found, cache))
    if search is not None:
        stages.append(("redis.search", found, search))
    answer_from = found + (cache if hit else max(cache, search or 0.0))
    stages.append(("cache.answer" if hit else "llm.generate", answer_from, -1))
    tracing.stage_spans(
        timings.get("total", answer_from),
        stages,
        {_REQUEST_ID: request_id_var.get(), "ragis.cache_hit": hit,
         "ragis.first_token_ms": timings.get("first_token", 0.0)},
    )  # fmt: skip


def parsed(*, parse_ms: float, chunk_ms: float) -> None:
    """Record a file the gateway has just parsed, then chunked."""
    m = metrics.current()
    if m is not None:
        m.upload_stage_seconds.labels("parse").observe(parse_ms / 1000)
        m.upload_stage_seconds.labels("chunk").observe(chunk_ms / 1000)
    if tracing.tracer() is not None:
        tracing.stage_spans(
            parse_ms + chunk_ms,
            [("parse", 0.0, parse_ms), ("chunk", parse_ms, chunk_ms)],
            {_REQUEST_ID: request_id_var.get()},
        )


def indexed(
    *, chunks: int, duplicate: bool, embed_ms: float, write_ms: float, total_ms: float
) -> None:
    """Record a document indexed (a duplicate wrote nothing)."""
    m = metrics.current()
    if m is not None and not duplicate:
        m.chunks_ingested.inc(chunks)
        m.embedded_texts.inc(chunks)
        m.embedding_seconds.inc(embed_ms / 1000)
    if tracing.tracer() is not None and not duplicate:
        # The batches alternate embedding and writing: the spans show the sums, one after other.
        tracing.stage_spans(
            total_ms,
            [("embed", 0.0, embed_ms), ("redis.write", embed_ms, write_ms)],
            {_REQUEST_ID: request_id_var.get(), "ragis.chunks": chunks},
        )


def redis_error(exc: BaseException) -> None:
    """Count a redis-py failure by its class."""
    m = metrics.current()
    if m is not None:
        m.redis_errors.labels(type(exc).__name__[:40]).inc()
