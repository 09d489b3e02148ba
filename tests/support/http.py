"""Real HTTP servers on loopback for tests: an ASGI app under uvicorn in a background thread,
and a small SSE reader for httpx responses."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn

from support.net import free_port


@contextlib.contextmanager
def serve(app: Any, *, startup_timeout: float = 120.0) -> Iterator[str]:
    """Run `app` on 127.0.0.1:<free port> until the block ends; yields the base URL."""
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="on",
        timeout_graceful_shutdown=2,
    )  # fmt: skip
    server = uvicorn.Server(config)
    failure: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(server.serve())
        except BaseException as exc:  # surfaced below, in the test's thread
            failure.append(exc)

    thread = threading.Thread(target=run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if failure or not thread.is_alive():
            raise RuntimeError(f"the app did not start: {failure[0] if failure else 'exited'}")
        if time.monotonic() > deadline:
            raise TimeoutError("the app did not start in time")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@dataclass(frozen=True)
class Event:
    type: str
    data: dict[str, Any]


async def read_events(response: httpx.Response) -> AsyncIterator[Event]:
    """Parse SSE events from a streaming httpx response (comments skipped)."""
    event_type, data_lines = "message", []
    async for line in response.aiter_lines():
        if line == "":
            if data_lines:
                yield Event(event_type, json.loads("\n".join(data_lines)))
            event_type, data_lines = "message", []
        elif line.startswith(":"):
            continue
        elif line.startswith("event:"):
            event_type = line[6:].strip()
        elif line.startswith("data:"):
            data_lines.append(line[5:].lstrip())


async def collect_events(client: httpx.AsyncClient, url: str, body: dict[str, Any]) -> list[Event]:
    async with client.stream("POST", url, json=body) as response:
        assert response.status_code == 200, (await response.aread()).decode()
        assert response.headers["content-type"].startswith("text/event-stream")
        return [event async for event in read_events(response)]
