"""A small SSE reader for httpx responses. (Apps run on loopback with
`ragis.web.run.serve_in_thread`, which the tests import as `serve`.)"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx


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
