"""Log lines as JSON that carry the request id, and request ids a caller cannot abuse."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from ragis.obs.logs import (
    JsonFormatter,
    RequestContext,
    clean_request_id,
    configure_logging,
    request_id_var,
)
from support.gateway_fixtures import GatewayFactory
from support.http import collect_events
from support.llm_servers import OpenAIServer, Reply

NOTE = ("saturn.txt", b"Saturn's rings are made mostly of water ice, from grains to boulders.\n")
FRESH_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def access_lines() -> Iterator[io.StringIO]:
    """What the logger `ragis.access` writes at DEBUG, as JSON lines."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(RequestContext("test"))
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("ragis.access")
    level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    yield out
    logger.removeHandler(handler)
    logger.setLevel(level)


def entries(out: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


async def test_every_log_line_of_a_chat_turn_carries_its_request_id_in_both_services(
    rag_url: str, start_gateway: GatewayFactory, llm: OpenAIServer, access_lines: io.StringIO
) -> None:
    with start_gateway(rag_urls=[rag_url]) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            upload = await client.post("/api/documents/upload", files=[("file", NOTE)])
            assert upload.status_code == 200, upload.text
            llm.script(Reply(tokens=["Ice."]))
            client.headers["X-Request-Id"] = "chat-42"
            events = await collect_events(client, "/api/chat/stream", {"message": "Rings?"})
            assert events[-1].type == "done"
            for _ in range(200):  # the access line is written once the stream has ended
                mine = [e for e in entries(access_lines) if e["request_id"] == "chat-42"]
                if len(mine) == 2:
                    break
                await asyncio.sleep(0.05)
    assert sorted(str(e["service"]) for e in mine) == ["gateway", "rag"]
    by_service = {e["service"]: e for e in mine}
    assert by_service["gateway"]["message"].startswith("POST /api/chat/stream 200 ")  # type: ignore[union-attr]
    assert by_service["rag"]["message"].startswith("POST /chat/stream 200 ")  # type: ignore[union-attr]
    for entry in mine:
        assert entry["level"] == "DEBUG"
        assert entry["logger"] == "ragis.access"
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", str(entry["time"]))
    # The upload's own id was made by the gateway and passed on: the same in both services.
    upload_ids = {e["request_id"] for e in entries(access_lines) if "upload" in str(e["message"])}
    assert len(upload_ids) == 1
    (upload_id,) = upload_ids
    assert FRESH_ID.fullmatch(str(upload_id))
    assert upload.headers["x-request-id"] == upload_id
    index_lines = [e for e in entries(access_lines) if str(e["message"]).startswith("POST /index")]
    assert [e["request_id"] for e in index_lines] == [upload_id]


def test_a_json_line_is_one_object_with_the_exception_and_the_context() -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(RequestContext("rag"))
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("ragis.test.json")
    logger.addHandler(handler)
    logger.propagate = False
    token = request_id_var.set("req-7")
    try:
        try:
            raise ValueError("broken\nsecond line")
        except ValueError:
            logger.exception("turn failed:\n%s", 'forged {"level": "INFO"}')
    finally:
        request_id_var.reset(token)
        logger.removeHandler(handler)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1  # newlines in the message and the traceback stay inside the JSON
    entry = json.loads(lines[0])
    assert entry["level"] == "ERROR"
    assert entry["logger"] == "ragis.test.json"
    assert entry["service"] == "rag"
    assert entry["request_id"] == "req-7"
    assert entry["message"] == 'turn failed:\nforged {"level": "INFO"}'
    assert "ValueError: broken" in entry["exc"]
    assert "trace_id" not in entry  # no tracing, no ids


def test_configure_logging_json_replaces_the_handlers_of_the_root_logger() -> None:
    root = logging.getLogger()
    before = (list(root.handlers), root.level)
    try:
        configure_logging("gateway", "json")
        (handler,) = root.handlers
        assert isinstance(handler.formatter, JsonFormatter)
        configure_logging("gateway", "text")
        (handler,) = root.handlers
        assert not isinstance(handler.formatter, JsonFormatter)
    finally:
        for h in list(root.handlers):
            root.removeHandler(h)
        for h in before[0]:
            root.addHandler(h)
        root.setLevel(before[1])


@pytest.mark.parametrize(
    "hostile",
    [
        "a" * 65,
        "x" * 10_000,
        "",
        "has space",
        'quote"and<tags>',
        "line\nbreak",
        "carriage\rreturn",
        "nul\x00byte",
        "bell\x07",
        "esc\x1b[31mred",
        "%0d%0aX-Injected:%201",
        "ünïcode",
        '{"level":"INFO"}',
    ],
)
def test_a_hostile_request_id_is_replaced(hostile: str) -> None:
    assert FRESH_ID.fullmatch(clean_request_id(hostile))
    assert FRESH_ID.fullmatch(clean_request_id(hostile.encode("utf-8")))


@pytest.mark.parametrize("fine", ["abc", "0f8c-12.ab_CD:9", "a" * 64])
def test_a_safe_request_id_is_kept(fine: str) -> None:
    assert clean_request_id(fine) == fine
    assert clean_request_id(None) != clean_request_id(None)  # a new one each time


async def raw_request(url: str, request_id: bytes) -> bytes:
    """GET /api/health with this X-Request-Id, sent byte for byte; the whole answer's head."""
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    writer.write(
        b"GET /api/health HTTP/1.1\r\nHost: " + parts.netloc.encode() + b"\r\n"
        b"X-Request-Id: " + request_id + b"\r\nConnection: close\r\n\r\n"
    )
    await writer.drain()
    answer = await reader.read()
    writer.close()
    return answer.split(b"\r\n\r\n", 1)[0]


async def test_the_gateway_answers_a_hostile_request_id_with_a_fresh_one(
    start_gateway: GatewayFactory,
) -> None:
    hostile = [b"z" * 8000, b"<script>alert(1)</script>", b"\xff\xfe latin-1", b"a b\tc"]
    with start_gateway(rag_urls=["http://127.0.0.1:9"]) as url:
        heads = [await raw_request(url, value) for value in hostile]
        # Control characters never reach ragis: the HTTP parser refuses the request.
        refused = [await raw_request(url, value) for value in (b"id\x7f", b"id\x01", b"\x00")]
    for value, head in zip(hostile, heads, strict=True):
        lines = head.split(b"\r\n")
        ids = [
            ln.split(b":", 1)[1].strip() for ln in lines if ln.lower().startswith(b"x-request-id:")
        ]
        assert len(ids) == 1, head
        assert FRESH_ID.fullmatch(ids[0].decode())
        assert value not in head
    for head in refused:
        assert head.startswith(b"HTTP/1.1 400 ")
        assert b"x-request-id" not in head.lower()


async def test_a_request_id_split_by_a_line_break_injects_no_header(
    start_gateway: GatewayFactory,
) -> None:
    with start_gateway(rag_urls=["http://127.0.0.1:9"]) as url:
        head = await raw_request(url, b"ok-1\r\nX-Injected: yes")
    assert b"x-injected" not in head.lower()
    assert b"x-request-id: ok-1" in head.lower()  # the header ended at the line break
