from __future__ import annotations

import httpx

from support.llm_servers import unused_port


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


async def test_health_says_why_an_llm_is_not_ok(start_rag: object) -> None:
    with start_rag(openai_base_url=f"http://127.0.0.1:{unused_port()}/v1") as url:  # type: ignore[operator]
        async with httpx.AsyncClient(base_url=url, timeout=30) as rag:
            body = (await rag.get("/health")).json()
    assert body["status"] == "degraded"
    assert body["llm"]["ok"] is False
    assert "127.0.0.1" in body["llm"]["detail"]


async def test_unknown_paths_are_json_errors(rag: httpx.AsyncClient) -> None:
    response = await rag.get("/nope")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
