"""/metrics on a real gateway in front of a real RAG service: what a scraper reads after an
upload and chat turns, labels that are route templates, and who may read it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from redis.asyncio import Redis

from ragis.db.failures import speaks_redis
from ragis.errors import RedisUnavailable
from ragis.obs import Metrics
from ragis.obs import metrics as metrics_mod
from support.fixtures import INTERNAL_TOKEN
from support.gateway_fixtures import GatewayFactory
from support.http import collect_events
from support.llm_servers import OpenAIServer, Reply
from support.net import free_port
from support.signin import ADMIN, ADMIN_PASSWORD, PASSWORD, auth_gateway, make_user, signed_in

RagFactory = Callable[..., AbstractContextManager[str]]

NOTE = ("saturn.txt", b"Saturn's rings are made mostly of water ice, from grains to boulders.\n")
QUESTION = {"message": "What are Saturn's rings made of?"}
METRICS_TOKEN = "scraper-token-" + "s" * 24


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a scrape, by name and labels."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(text: str, name: str, **labels: str) -> float:
    return samples(text).get((name, frozenset(labels.items())), 0.0)


async def scrape_until(
    client: httpx.AsyncClient, ready: Callable[[str], bool], **kwargs: str
) -> str:
    """Scrape until `ready` holds: a request is counted when its answer's last byte has gone,
    which can be just after the client has read it (a bound against a hang, not a speed)."""
    for _ in range(200):
        answer = await client.get("/metrics", headers=kwargs)
        assert answer.status_code == 200, answer.text
        if ready(answer.text):
            return answer.text
        await asyncio.sleep(0.05)
    raise AssertionError(f"the scrape never got there:\n{answer.text[:3000]}")


@pytest.fixture
def rag_url(start_rag: RagFactory) -> Iterator[str]:
    with start_rag() as url:
        yield url


@pytest.fixture
async def gateway(rag_url: str, start_gateway: GatewayFactory) -> AsyncIterator[httpx.AsyncClient]:
    with start_gateway(rag_urls=[rag_url]) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            yield client


async def test_a_scrape_counts_requests_chat_stages_cache_and_ingestion(
    gateway: httpx.AsyncClient, rag_url: str, llm: OpenAIServer
) -> None:
    upload = await gateway.post("/api/documents/upload", files=[("file", NOTE)])
    assert upload.status_code == 200, upload.text
    llm.script(Reply(tokens=["Water ", "ice ", "[1]."]))
    first = await collect_events(gateway, "/api/chat/stream", QUESTION)
    second = await collect_events(gateway, "/api/chat/stream", QUESTION)  # the cache's
    assert first[-1].type == "done"
    assert second[-1].data["cache_hit"] is True
    doc_id = upload.json()["results"][0]["document_id"]
    listed = await gateway.get(f"/api/documents/{doc_id}")
    assert listed.status_code == 200, listed.text

    text = await scrape_until(
        gateway,
        lambda t: value(t, "ragis_http_requests_total", route="/api/chat/stream", method="POST",
                        status="200") == 2,
    )  # fmt: skip
    # The route is the template, never the path the caller chose.
    assert value(
        text, "ragis_http_requests_total", route="/api/documents/{doc_id}", method="GET",
        status="200",
    ) == 1  # fmt: skip
    assert doc_id not in text
    assert value(text, "ragis_http_requests_total", route="/api/documents/upload",
                 method="POST", status="200") == 1  # fmt: skip
    assert value(text, "ragis_http_request_duration_seconds_count", route="/api/chat/stream",
                 method="POST") == 2  # fmt: skip
    assert value(text, "ragis_active_streams") == 0
    for stage in ("parse", "chunk"):  # the gateway's stages of the upload
        assert value(text, "ragis_upload_stage_seconds_count", stage=stage) == 1, stage
    assert "process_resident_memory_bytes" in text

    async with httpx.AsyncClient(base_url=rag_url, timeout=30) as rag:
        auth = {"Authorization": f"Bearer {INTERNAL_TOKEN}"}
        rag_text = await scrape_until(
            rag,
            lambda t: value(t, "ragis_chat_turns_total", outcome="done") == 2,
            **auth,
        )
        refused = await rag.get("/metrics")  # the internal token guards it like the rest
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "unauthenticated"
    assert value(rag_text, "ragis_chunks_ingested_total") == upload.json()["results"][0]["chunks"]
    assert value(rag_text, "ragis_semantic_cache_lookups_total", result="miss") == 1
    assert value(rag_text, "ragis_semantic_cache_lookups_total", result="hit") == 1
    for stage in ("embed", "cache", "first_token", "total"):
        assert value(rag_text, "ragis_chat_stage_seconds_count", stage=stage) == 2, stage
    assert value(rag_text, "ragis_chat_stage_seconds_count", stage="search") == 1  # a miss
    # Texts embedded: the chunks, and one question per turn; and the time that took.
    assert (
        value(rag_text, "ragis_embedded_texts_total") == upload.json()["results"][0]["chunks"] + 2
    )
    assert value(rag_text, "ragis_embedding_seconds_total") > 0
    assert value(rag_text, "ragis_http_requests_total", route="/index", method="POST",
                 status="200") == 1  # fmt: skip


async def test_llm_errors_are_counted_by_kind(
    gateway: httpx.AsyncClient, rag_url: str, llm: OpenAIServer
) -> None:
    upload = await gateway.post("/api/documents/upload", files=[("file", NOTE)])
    assert upload.status_code == 200, upload.text
    llm.script(Reply.http_error(401))
    events = await collect_events(gateway, "/api/chat/stream", QUESTION)
    assert events[-1].type == "error"
    kind = events[-1].data["code"]
    assert kind.startswith("llm_")
    async with httpx.AsyncClient(base_url=rag_url, timeout=30) as rag:
        text = await scrape_until(
            rag,
            lambda t: value(t, "ragis_llm_errors_total", kind=kind) == 1,
            Authorization=f"Bearer {INTERNAL_TOKEN}",
        )
    assert value(text, "ragis_chat_turns_total", outcome="error") == 1


async def test_redis_failures_are_counted_by_class() -> None:
    @speaks_redis
    class Store:
        def __init__(self, redis: Redis) -> None:
            self.redis = redis

        async def ping(self) -> object:
            return await self.redis.ping()

    metrics = Metrics("rag", process=False)
    token = metrics_mod.activate(metrics)
    redis = Redis(port=free_port(), socket_connect_timeout=1)  # nothing listens there
    try:
        with pytest.raises(RedisUnavailable):
            await Store(redis).ping()
    finally:
        metrics_mod.deactivate(token)
        await redis.aclose()
    assert value(metrics.exposition().decode(), "ragis_redis_errors_total",
                 kind="ConnectionError") == 1  # fmt: skip


async def test_metrics_off_means_no_route_and_no_registry(
    start_rag: RagFactory, start_gateway: GatewayFactory
) -> None:
    with (
        start_rag(metrics=False) as rag_url,
        start_gateway(rag_urls=[rag_url], metrics=False) as url,
    ):
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            answer = await client.get("/metrics")
            assert answer.status_code == 404
            assert answer.headers["x-request-id"]  # request ids stay on


async def test_with_sign_in_on_the_metrics_token_or_an_admin_may_scrape(
    start_gateway: GatewayFactory,
) -> None:
    with auth_gateway(start_gateway, metrics_token=METRICS_TOKEN) as base:
        async with httpx.AsyncClient(base_url=base, timeout=30) as anyone:
            missing = await anyone.get("/metrics")
            wrong = await anyone.get(
                "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN[:-1]}x"}
            )
            basic = await anyone.get(
                "/metrics", headers={"Authorization": f"Basic {METRICS_TOKEN}"}
            )
            scraper = await anyone.get(
                "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
            )
            hostile = [
                await anyone.get("/metrics", headers={"Authorization": value})
                for value in (
                    b"Bearer " + b"x" * 6000,
                    b"Bearer \xff\xfe" + METRICS_TOKEN.encode(),
                    b"Bearer " + METRICS_TOKEN.encode() + b"x",
                    b"Bearer",
                    b"bearer  "
                    + METRICS_TOKEN.encode(),  # the scheme's case and spaces do not matter
                )
            ]
        assert missing.status_code == 401
        assert missing.json()["error"]["code"] == "unauthenticated"
        assert wrong.status_code == 401
        assert basic.status_code == 401
        assert scraper.status_code == 200
        assert [a.status_code for a in hostile] == [401, 401, 401, 401, 200]
        assert scraper.headers["content-type"].startswith("text/plain")
        assert "ragis_http_requests_total" in scraper.text
        async with signed_in(base, ADMIN, ADMIN_PASSWORD) as admin:
            assert (await admin.get("/metrics")).status_code == 200
            await make_user(admin, "bob")
        async with signed_in(base, "bob", PASSWORD) as bob:
            member = await bob.get("/metrics")
        assert member.status_code == 403
        assert member.json()["error"]["code"] == "forbidden"


async def test_with_sign_in_on_and_no_metrics_token_only_admins_scrape(
    start_gateway: GatewayFactory,
) -> None:
    with auth_gateway(start_gateway) as base:
        async with httpx.AsyncClient(base_url=base, timeout=30) as anyone:
            guessed = await anyone.get("/metrics", headers={"Authorization": "Bearer x"})
        assert guessed.status_code == 401
        async with signed_in(base, ADMIN, ADMIN_PASSWORD) as admin:
            assert (await admin.get("/metrics")).status_code == 200
