"""`relay()` on a scripted upstream body: whole events only, heartbeats between them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence

import httpx

from ragis.gateway.proxy import relay
from ragis.gateway.rag_client import ChatStream

Step = bytes | float  # bytes to send, or seconds to wait


async def relayed(steps: Sequence[Step], *, heartbeat: float = 10.0) -> list[bytes]:
    async def body() -> AsyncIterator[bytes]:
        for step in steps:
            if isinstance(step, float):
                await asyncio.sleep(step)
            else:
                yield step

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body())

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        request = http.build_request("POST", "http://rag:1/chat/stream")
        response = await http.send(request, stream=True)
        upstream = ChatStream("http://rag:1", response)
        return [piece async for piece in relay(upstream, heartbeat_seconds=heartbeat)]


async def test_an_event_split_over_two_reads_is_forwarded_whole() -> None:
    out = await relayed([b"event: meta\ndata: {}", b"\n\nevent: done\n", b"data: {}\n\n"])
    assert out == [b"event: meta\ndata: {}\n\n", b"event: done\ndata: {}\n\n"]


async def test_two_events_in_one_read_are_forwarded_one_by_one() -> None:
    out = await relayed([b"event: token\ndata: {}\n\nevent: done\ndata: {}\n\n"])
    assert out == [b"event: token\ndata: {}\n\n", b"event: done\ndata: {}\n\n"]


async def test_heartbeats_come_only_between_whole_events() -> None:
    out = await relayed(
        [
            b"event: meta\ndata: {}\n\nevent: tok",
            0.35,
            b"en\ndata: {}\n\nevent: done\ndata: {}\n\n",
        ],
        heartbeat=0.1,
    )
    assert out[0] == b"event: meta\ndata: {}\n\n"
    assert out[-2:] == [b"event: token\ndata: {}\n\n", b"event: done\ndata: {}\n\n"]
    assert set(out[1:-2]) == {b": keep-alive\n\n"}
    assert len(out[1:-2]) >= 2


async def test_a_stream_that_ends_before_done_gets_an_error_event() -> None:
    out = await relayed([b'event: meta\ndata: {}\n\nevent: token\ndata: {"te'])
    assert out[0] == b"event: meta\ndata: {}\n\n"
    assert len(out) == 2
    kind, data = out[1].decode().split("\n")[:2]
    assert kind == "event: error"
    error = json.loads(data.removeprefix("data: "))
    assert error["code"] == "upstream_error"
    assert "The RAG service at http://rag:1 stopped answering" in error["message"]


async def test_an_error_event_from_upstream_ends_the_stream_without_another() -> None:
    error = b'event: error\ndata: {"type":"error","code":"llm_unavailable","message":"x"}\n\n'
    out = await relayed([b"event: meta\ndata: {}\n\n", error])
    assert out == [b"event: meta\ndata: {}\n\n", error]
