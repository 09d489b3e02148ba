"""Chat sessions through the gateway."""

from __future__ import annotations

import httpx

from support.http import collect_events
from support.llm_servers import OpenAIServer, Reply


async def test_a_session_can_be_read_and_forgotten(
    gateway: httpx.AsyncClient, llm: OpenAIServer
) -> None:
    response = await gateway.post(
        "/api/documents/upload",
        files=[("file", ("tea.txt", b"Green tea is steeped at about 80 degrees Celsius.\n"))],
    )
    assert response.status_code == 200
    llm.script(Reply(tokens=["About ", "80 °C [1]."]))
    events = await collect_events(
        gateway, "/api/chat/stream", {"message": "How hot should green tea water be?"}
    )
    session_id = events[0].data["session_id"]

    response = await gateway.get(f"/api/sessions/{session_id}")
    assert response.status_code == 200
    session = response.json()
    assert session["session_id"] == session_id
    assert [m["role"] for m in session["messages"]] == ["user", "assistant"]
    assert session["messages"][1]["content"] == "About 80 °C [1]."
    assert session["messages"][1]["citations"][0]["filename"] == "tea.txt"
    assert session["ttl"] > 0

    response = await gateway.delete(f"/api/sessions/{session_id}")
    assert response.status_code == 200
    assert response.json() == {"deleted": True, "session_id": session_id}
    response = await gateway.get(f"/api/sessions/{session_id}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_bad_session_ids_are_422(gateway: httpx.AsyncClient) -> None:
    response = await gateway.get("/api/sessions/not%20valid!")
    assert response.status_code == 422
    assert (await gateway.delete("/api/sessions/missing")).status_code == 404
