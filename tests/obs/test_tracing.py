"""Traces with the SDK's in-memory exporter: a chat turn and an upload are each one trace from
the gateway through the RAG service to its stages; off without an endpoint; the OTLP/HTTP
exporter really posts to a collector."""

from __future__ import annotations

import asyncio
import http.server
import threading
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from ragis.embedding import Embedder
from ragis.gateway.app import create_app as create_gateway
from ragis.gateway.settings import load_gateway_settings
from ragis.obs import install_tracing, outgoing_headers, setup_tracing, tracer
from ragis.rag.app import create_app as create_rag
from ragis.rag.settings import load_rag_settings
from ragis.web.run import serve_in_thread as serve
from support.http import collect_events
from support.llm_servers import OpenAIServer, Reply

NOTE = ("saturn.txt", b"Saturn's rings are made mostly of water ice, from grains to boulders.\n")
QUESTION = {"message": "What are Saturn's rings made of?"}


@pytest.fixture
def traced(
    rag_options: dict[str, Any], gateway_options: dict[str, Any], embedder: Embedder
) -> Iterator[tuple[str, InMemorySpanExporter]]:
    """A gateway and a RAG service, each tracing to one in-memory exporter."""
    exporter = InMemorySpanExporter()
    rag = create_rag(load_rag_settings(**rag_options), embedder=embedder)
    install_tracing(rag, setup_tracing("ragis-rag", None, exporter=exporter))
    with serve(rag) as rag_url:
        gateway = create_gateway(load_gateway_settings(**gateway_options, rag_urls=[rag_url]))
        install_tracing(gateway, setup_tracing("ragis-gateway", None, exporter=exporter))
        with serve(gateway) as url:
            yield url, exporter


async def spans_until(exporter: InMemorySpanExporter, *names: str) -> Sequence[ReadableSpan]:
    """The finished spans once every name is among them (a server span ends just after its
    answer's last byte: a bound against a hang, not a speed)."""
    for _ in range(200):
        spans = exporter.get_finished_spans()
        if set(names) <= {s.name for s in spans}:
            return spans
        await asyncio.sleep(0.05)
    raise AssertionError(f"missing spans: {set(names) - {s.name for s in spans}}")


def one(spans: Sequence[ReadableSpan], name: str) -> ReadableSpan:
    found = [s for s in spans if s.name == name]
    assert len(found) == 1, [s.name for s in spans]
    return found[0]


def parent_id(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


async def test_a_chat_turn_is_one_trace_from_the_gateway_to_the_llm(
    traced: tuple[str, InMemorySpanExporter], llm: OpenAIServer
) -> None:
    url, exporter = traced
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        upload = await client.post("/api/documents/upload", files=[("file", NOTE)])
        assert upload.status_code == 200, upload.text
        exporter.clear()
        llm.script(Reply(tokens=["Water ", "ice ", "[1]."]))
        client.headers["X-Request-Id"] = "turn-0001"
        events = await collect_events(client, "/api/chat/stream", QUESTION)
    assert events[-1].type == "done"
    spans = await spans_until(exporter, "POST /api/chat/stream", "POST /chat/stream")
    gateway = one(spans, "POST /api/chat/stream")
    rag = one(spans, "POST /chat/stream")
    assert gateway.kind is SpanKind.SERVER
    assert gateway.parent is None  # the trace starts at the gateway
    assert rag.context.trace_id == gateway.context.trace_id
    assert parent_id(rag) == gateway.context.span_id
    assert gateway.resource.attributes["service.name"] == "ragis-gateway"
    assert rag.resource.attributes["service.name"] == "ragis-rag"
    stages = {s.name: s for s in spans if parent_id(s) == rag.context.span_id}
    assert {"embed", "redis.cache_lookup", "redis.search", "llm.generate"} <= set(stages)
    for span in (gateway, rag, *stages.values()):
        assert span.context.trace_id == gateway.context.trace_id
        assert span.attributes is not None
        assert span.attributes["ragis.request_id"] == "turn-0001"

    # The stages lie inside the RAG service's span, in the turn's order.
    def bounds(span: ReadableSpan) -> tuple[int, int]:
        assert span.start_time is not None
        assert span.end_time is not None
        return span.start_time, span.end_time

    rag_start, rag_end = bounds(rag)
    for span in stages.values():
        start, end = bounds(span)
        assert rag_start <= start <= end <= rag_end
    assert bounds(stages["embed"])[1] <= bounds(stages["llm.generate"])[0]
    assert rag.attributes is not None
    assert rag.attributes["http.route"] == "/chat/stream"


async def test_an_upload_is_one_trace_from_the_gateway_to_the_redis_writes(
    traced: tuple[str, InMemorySpanExporter],
) -> None:
    url, exporter = traced
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        upload = await client.post(
            "/api/documents/upload", files=[("file", NOTE)], headers={"X-Request-Id": "up-1"}
        )
    assert upload.status_code == 200, upload.text
    assert upload.headers["x-request-id"] == "up-1"
    spans = await spans_until(exporter, "POST /api/documents/upload", "POST /index")
    gateway = one(spans, "POST /api/documents/upload")
    index = one(spans, "POST /index")
    assert parent_id(index) == gateway.context.span_id
    assert index.context.trace_id == gateway.context.trace_id
    children = {s.name for s in spans if parent_id(s) == index.context.span_id}
    assert {"embed", "redis.write"} <= children
    # The gateway's own stages, before it sent the chunks: its span's children.
    stages = {s.name for s in spans if parent_id(s) == gateway.context.span_id}
    assert {"parse", "chunk", "POST /index"} <= stages


def test_without_an_endpoint_tracing_is_off() -> None:
    assert setup_tracing("ragis-rag", None) is None
    assert setup_tracing("ragis-rag", "") is None
    assert tracer() is None
    assert outgoing_headers() == {}  # no request, no tracing: nothing to pass on


class _Collector(http.server.BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[str, str, bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        self.received.append((self.path, self.headers.get("content-type", ""), body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_the_otlp_exporter_posts_protobuf_spans_to_the_endpoint() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        tracing = setup_tracing("ragis-test", f"http://127.0.0.1:{server.server_port}")
        assert tracing is not None
        with tracing.tracer.start_as_current_span("a turn"):
            pass
        tracing.shutdown()  # flushes the batch
    finally:
        server.shutdown()
        server.server_close()
    assert len(_Collector.received) == 1
    path, content_type, body = _Collector.received[0]
    assert path == "/v1/traces"
    assert content_type == "application/x-protobuf"
    assert b"a turn" in body
    assert b"ragis-test" in body
