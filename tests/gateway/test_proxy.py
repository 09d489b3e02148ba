"""`relay()` on a scripted loopback upstream: whole events only, heartbeats between them, one
`upstream_error` event when the upstream breaks off, and the upstream closed however it ends."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, Sequence
from typing import Any, Literal

from ragis.contract import Caller
from ragis.gateway.proxy import relay
from ragis.gateway.rag_client import RagClient, new_session
from support.fixtures import INTERNAL_TOKEN
from support.scripted_http import Handler, Reply, Request, scripted_server

# bytes to send as one chunk, seconds to wait, an event to wait for (a gap that lasts until the
# test ends it), or how the body ends if not with its last chunk: "cut" closes the connection,
# "silence" says nothing more until the client leaves.
Step = bytes | float | asyncio.Event | Literal["cut", "silence"]

META = b"event: meta\ndata: {}\n\n"
DONE = b"event: done\ndata: {}\n\n"
KEEP_ALIVE = b": keep-alive\n\n"


def streaming(steps: Sequence[Step], left: asyncio.Event | None = None) -> Handler:
    async def handler(request: Request, reply: Reply) -> None:
        await reply.start_stream()
        for step in steps:
            if step == "cut":
                reply.close()
                return
            if step == "silence":
                await reply.client_left()
                if left is not None:
                    left.set()
                return
            if isinstance(step, asyncio.Event):
                await step.wait()
            elif isinstance(step, float):
                await asyncio.sleep(step)
            elif isinstance(step, bytes):
                await reply.chunk(step)
        await reply.end_stream()

    return handler


async def relayed(
    steps: Sequence[Step], *, heartbeat: float = 10.0, read_timeout: float = 30.0
) -> tuple[str, list[bytes]]:
    """The upstream's URL and what `relay()` made of its body."""
    async with (
        scripted_server(streaming(steps)) as server,
        new_session(read_timeout, INTERNAL_TOKEN) as http,
    ):
        upstream = await RagClient(http, [server.url]).open_chat(
            {"message": "hi"}, Caller("default", "local")
        )
        return server.url, [piece async for piece in relay(upstream, heartbeat_seconds=heartbeat)]


def error_of(piece: bytes) -> dict[str, Any]:
    kind, data = piece.decode().split("\n")[:2]
    assert kind == "event: error"
    error: dict[str, Any] = json.loads(data.removeprefix("data: "))
    return error


async def test_an_event_split_over_two_reads_is_forwarded_whole() -> None:
    _, out = await relayed(
        [b"event: meta\ndata: {}", 0.05, b"\n\nevent: done\n", 0.05, b"data: {}\n\n"]
    )
    assert out == [META, DONE]


async def test_two_events_in_one_read_are_forwarded_one_by_one() -> None:
    _, out = await relayed([b"event: token\ndata: {}\n\n" + DONE])
    assert out == [b"event: token\ndata: {}\n\n", DONE]


async def test_heartbeats_come_only_between_whole_events() -> None:
    # The upstream stops in the middle of an event and stays silent until the test has seen two
    # heartbeats: no timing decides what the relay sends during the gap.
    gap = asyncio.Event()
    steps: list[Step] = [META + b"event: tok", gap, b"en\ndata: {}\n\n" + DONE]
    async with (
        scripted_server(streaming(steps)) as server,
        new_session(30.0, INTERNAL_TOKEN) as http,
    ):
        upstream = await RagClient(http, [server.url]).open_chat(
            {"message": "hi"}, Caller("default", "local")
        )
        pieces = relay(upstream, heartbeat_seconds=0.01)
        assert await anext(pieces) == META
        assert [await anext(pieces), await anext(pieces)] == [KEEP_ALIVE, KEEP_ALIVE]
        gap.set()
        rest = [piece async for piece in pieces]
    assert rest[-2:] == [b"event: token\ndata: {}\n\n", DONE]
    assert set(rest[:-2]) <= {KEEP_ALIVE}


async def test_a_stream_that_ends_before_done_gets_an_error_event() -> None:
    url, out = await relayed([META + b'event: token\ndata: {"te'])
    assert out[0] == META
    assert len(out) == 2
    error = error_of(out[1])
    assert error["code"] == "upstream_error"
    assert error["message"] == (
        f"The RAG service at {url} stopped answering in the middle of the reply "
        "(the stream ended before its last event); ask again."
    )


async def test_a_connection_cut_in_an_event_gets_an_error_event() -> None:
    url, out = await relayed([META + b'event: token\ndata: {"te', 0.05, "cut"])
    assert out[0] == META
    assert len(out) == 2
    error = error_of(out[1])
    assert error["code"] == "upstream_error"
    assert error["message"].startswith(
        f"The RAG service at {url} stopped answering in the middle of the reply ("
    )
    assert "ClientPayloadError" in error["message"]


async def test_a_silent_upstream_gets_heartbeats() -> None:
    async with (
        scripted_server(streaming([META, "silence"])) as server,
        new_session(30.0, INTERNAL_TOKEN) as http,
    ):
        upstream = await RagClient(http, [server.url]).open_chat(
            {"message": "hi"}, Caller("default", "local")
        )
        pieces = relay(upstream, heartbeat_seconds=0.01)
        assert isinstance(pieces, AsyncGenerator)
        assert await anext(pieces) == META
        assert [await anext(pieces) for _ in range(3)] == [KEEP_ALIVE] * 3
        await pieces.aclose()


async def test_heartbeats_do_not_keep_a_silent_upstream_from_timing_out() -> None:
    # However many heartbeats fit into the read timeout, the read still times out: the relay
    # never restarts the read in progress to send one.
    url, out = await relayed([META, "silence"], heartbeat=0.01, read_timeout=0.3)
    assert out[0] == META
    assert set(out[1:-1]) <= {KEEP_ALIVE}
    error = error_of(out[-1])
    assert error["code"] == "upstream_error"
    assert f"The RAG service at {url} stopped answering" in error["message"]
    assert "TimeoutError" in error["message"]


async def test_an_error_event_from_upstream_ends_the_stream_without_another() -> None:
    error = b'event: error\ndata: {"type":"error","code":"llm_unavailable","message":"x"}\n\n'
    _, out = await relayed([META, error])
    assert out == [META, error]


async def test_a_connection_cut_after_done_adds_nothing() -> None:
    _, out = await relayed([META, DONE, 0.05, "cut"])
    assert out == [META, DONE]


async def test_leaving_the_relay_closes_the_upstream_at_once() -> None:
    left = asyncio.Event()
    handler = streaming([META, "silence"], left)
    async with scripted_server(handler) as server, new_session(30.0, INTERNAL_TOKEN) as http:
        upstream = await RagClient(http, [server.url]).open_chat(
            {"message": "hi"}, Caller("default", "local")
        )
        pieces = relay(upstream, heartbeat_seconds=0.05)
        assert isinstance(pieces, AsyncGenerator)
        assert await anext(pieces) == META
        assert await anext(pieces) == KEEP_ALIVE  # a read is in progress
        assert not left.is_set()
        await pieces.aclose()
        await asyncio.wait_for(left.wait(), timeout=2)
