"""`/api/health` with the RAG service up, down, and with its LLM down."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import httpx

from support.gateway_fixtures import GatewayFactory
from support.llm_servers import unused_port


async def test_health_reports_every_part(gateway: httpx.AsyncClient) -> None:
    response = await gateway.get("/api/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["gateway"]["ok"] is True
    assert body["rag"]["ok"] is True
    assert body["rag"]["url"].startswith("http://127.0.0.1:")
    assert body["redis"]["ok"] is True
    assert body["embedder"] == {
        "ok": True,
        "detail": "sentence-transformers/all-MiniLM-L6-v2 (384 dims, torch-fp32)",
    }
    assert body["llm"]["ok"] is True
    assert (body["provider"], body["model"]) == ("openai", "gpt-4o-mini")
    assert body["limits"] == {
        "max_upload_bytes": 50 * 1024 * 1024,
        "max_files_per_upload": 20,
        "max_message_chars": 4000,
    }


async def test_health_relays_the_rag_services_message_limit(
    start_rag: Callable[..., AbstractContextManager[str]], start_gateway: GatewayFactory
) -> None:
    with start_rag(max_message_chars=120) as rag_url, start_gateway(rag_urls=[rag_url]) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            body = (await client.get("/api/health")).json()
    assert body["limits"]["max_message_chars"] == 120


async def test_health_is_degraded_and_says_why_when_the_rag_service_is_down(
    start_gateway: GatewayFactory,
) -> None:
    dead = f"http://127.0.0.1:{unused_port()}"
    with start_gateway(rag_urls=[dead]) as url:
        async with httpx.AsyncClient(base_url=url) as client:
            response = await client.get("/api/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["gateway"]["ok"] is True
    assert body["rag"]["ok"] is False
    assert body["rag"]["url"] == dead
    assert f"The RAG service at {dead} does not answer" in body["rag"]["detail"]
    assert body["redis"]["ok"] is False
    assert body["provider"] is None
    # The message limit is the RAG service's: unknown while it does not answer.
    assert body["limits"]["max_message_chars"] is None
    assert body["limits"]["max_upload_bytes"] == 50 * 1024 * 1024


async def test_health_is_degraded_when_the_rag_service_reports_its_llm_down(
    start_rag: Callable[..., AbstractContextManager[str]], start_gateway: GatewayFactory
) -> None:
    no_llm = f"http://127.0.0.1:{unused_port()}/v1"
    with start_rag(openai_base_url=no_llm) as rag_url, start_gateway(rag_urls=[rag_url]) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            body = (await client.get("/api/health")).json()
    assert body["status"] == "degraded"
    assert body["rag"]["ok"] is True
    assert body["redis"]["ok"] is True
    assert body["llm"]["ok"] is False


async def test_requests_skip_a_rag_url_that_refuses_connections(
    rag_url: str, start_gateway: GatewayFactory
) -> None:
    dead = f"http://127.0.0.1:{unused_port()}"
    with start_gateway(rag_urls=[dead, rag_url]) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            for _ in range(4):
                response = await client.get("/api/collections")
                assert response.status_code == 200
            body = (await client.get("/api/health")).json()
    assert body["status"] == "ok"
    assert body["rag"]["url"] == rag_url
