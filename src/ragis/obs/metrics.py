"""Prometheus metrics: one registry per app, the instruments ragis records into.

`Metrics(service)` owns a `CollectorRegistry` of its own (never prometheus-client's global one:
a test runs a gateway and a RAG service in one process, each app with its numbers) with:

    ragis_http_requests_total{route,method,status}       every request, `route` the template
    ragis_http_request_duration_seconds{route,method}    (/collections/{name}), never the path
    ragis_active_streams                                 answers streaming now (SSE, NDJSON)
    ragis_chat_turns_total{outcome}                      done | error
    ragis_chat_stage_seconds{stage}                      embed, cache, search, first_token,
                                                         total (and rewrite) of each turn
    ragis_semantic_cache_lookups_total{result}           hit | miss
    ragis_upload_stage_seconds{stage}                    parse, chunk (the gateway's)
    ragis_chunks_ingested_total                          chunks written by /index
    ragis_embedded_texts_total, ragis_embedding_seconds_total
                                                         rate() of the two: texts per second
    ragis_llm_errors_total{kind}                         llm_unavailable, llm_auth, ...
    ragis_redis_errors_total{kind}                       the redis-py error class
    process_*                                            CPU, memory, open files of the process

Every label takes values from a fixed set (route templates, error classes), so a caller cannot
grow the number of series. The request path records through `current()`, the app's `Metrics`
that `ragis.obs.middleware` put in a contextvar for the request (None: metrics are off).
"""

from __future__ import annotations

from contextvars import ContextVar, Token

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)

__all__ = ["CHAT_STAGES", "CONTENT_TYPE", "Metrics", "activate", "current", "deactivate"]

CONTENT_TYPE = CONTENT_TYPE_LATEST

#: The stages of a chat turn's `done` timings that get a histogram.
CHAT_STAGES = frozenset({"rewrite", "embed", "cache", "search", "first_token", "total"})

_HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
_STAGE_BUCKETS = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80,
)  # fmt: skip

_metrics_var: ContextVar[Metrics | None] = ContextVar("ragis_metrics", default=None)


class Metrics:
    """One app's registry and instruments."""

    def __init__(self, service: str, *, process: bool = True) -> None:
        self.service = service
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "ragis_http_requests", "HTTP requests answered, by route template, method and status.",
            ["route", "method", "status"], registry=r,
        )  # fmt: skip
        self.request_seconds = Histogram(
            "ragis_http_request_duration_seconds",
            "Time to answer a request, to the last byte of the body (a stream's whole length).",
            ["route", "method"], buckets=_HTTP_BUCKETS, registry=r,
        )  # fmt: skip
        self.active_streams = Gauge(
            "ragis_active_streams", "Answers streaming now (chat SSE, indexing NDJSON).",
            registry=r,
        )  # fmt: skip
        self.chat_turns = Counter(
            "ragis_chat_turns", "Chat turns that ended, by outcome (done, error).", ["outcome"],
            registry=r,
        )  # fmt: skip
        self.chat_stage_seconds = Histogram(
            "ragis_chat_stage_seconds",
            "Stages of a chat turn: embed, cache (lookup), search, first_token and total (from "
            "the turn's start), rewrite (a follow-up rewritten by the LLM).",
            ["stage"], buckets=_STAGE_BUCKETS, registry=r,
        )  # fmt: skip
        self.cache_lookups = Counter(
            "ragis_semantic_cache_lookups", "Semantic cache lookups, by result (hit, miss).",
            ["result"], registry=r,
        )  # fmt: skip
        self.upload_stage_seconds = Histogram(
            "ragis_upload_stage_seconds",
            "The gateway's stages of an uploaded file: parse (in the sandbox) and chunk.",
            ["stage"], buckets=_STAGE_BUCKETS, registry=r,
        )  # fmt: skip
        self.chunks_ingested = Counter(
            "ragis_chunks_ingested", "Chunks embedded and written into collections.", registry=r
        )
        self.embedded_texts = Counter(
            "ragis_embedded_texts", "Texts embedded (chunks and questions).", registry=r
        )
        self.embedding_seconds = Counter(
            "ragis_embedding_seconds",
            "Seconds spent embedding; rate(texts) / rate(seconds) is the throughput.",
            registry=r,
        )
        self.llm_errors = Counter(
            "ragis_llm_errors", "Chat turns the LLM failed, by kind (the ragis error code).",
            ["kind"], registry=r,
        )  # fmt: skip
        self.redis_errors = Counter(
            "ragis_redis_errors", "Redis commands that failed, by redis-py error class.",
            ["kind"], registry=r,
        )  # fmt: skip
        if process:
            ProcessCollector(registry=r)

    def exposition(self) -> bytes:
        """The registry in the Prometheus text format."""
        return generate_latest(self.registry)


def activate(metrics: Metrics | None) -> Token[Metrics | None]:
    """Make `metrics` the current request's (the middleware resets the token at the end)."""
    return _metrics_var.set(metrics)


def deactivate(token: Token[Metrics | None]) -> None:
    _metrics_var.reset(token)


def current() -> Metrics | None:
    """The metrics of the app serving the current request; None outside one or when off."""
    return _metrics_var.get()
