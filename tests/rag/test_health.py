from __future__ import annotations

from pathlib import Path

import httpx

from ragis.db import EmbeddedRedis
from support.fixtures import RagFactory, rag_client
from support.llm_servers import unused_port
from support.net import free_port


async def test_health_reports_each_part(rag: httpx.AsyncClient) -> None:
    body = (await rag.get("/health")).json()
    assert body["status"] == "ok"
    assert body["redis"]["ok"] is True
    assert body["embedder"] == {
        "ok": True,
        "detail": "sentence-transformers/all-MiniLM-L6-v2 (384 dims, torch-fp32)",
    }
    assert body["llm"]["ok"] is True
    assert body["provider"] == "openai"
    assert body["model"] == "gpt-4o-mini"
    assert body["max_message_chars"] == 4000


async def test_health_says_why_an_llm_is_not_ok(start_rag: object) -> None:
    with start_rag(openai_base_url=f"http://127.0.0.1:{unused_port()}/v1") as url:  # type: ignore[operator]
        async with rag_client(url, timeout=30) as rag:
            body = (await rag.get("/health")).json()
    assert body["status"] == "degraded"
    assert body["llm"]["ok"] is False
    assert "127.0.0.1" in body["llm"]["detail"]


async def test_a_redis_that_stops_is_a_503_and_a_degraded_health(
    tmp_path: Path, start_rag: RagFactory
) -> None:
    server = EmbeddedRedis(tmp_path / "redis", port=free_port())
    server.start()
    try:
        with start_rag(redis_url=server.url) as url:
            async with rag_client(url, timeout=30) as rag:
                assert (await rag.post("/collections", json={"name": "kb"})).status_code == 200
                server.stop()
                listed = await rag.get("/collections/kb/documents")
                assert listed.status_code == 503, listed.text
                assert listed.json()["error"] == {
                    "code": "redis_unavailable",
                    "message": "Redis did not answer; try again shortly.",
                }
                chat = await rag.post("/chat/stream", json={"message": "hi", "collection": "kb"})
                assert chat.status_code == 503, chat.text
                assert chat.json()["error"]["code"] == "redis_unavailable"
                body = (await rag.get("/health")).json()
    finally:
        server.stop()
    assert body["status"] == "degraded"
    assert body["redis"]["ok"] is False
    assert body["redis"]["detail"].startswith("Redis does not answer: ")


async def test_unknown_paths_are_json_errors(rag: httpx.AsyncClient) -> None:
    response = await rag.get("/nope")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
