"""The SSE form of an upload (`Accept: text/event-stream`) through the gateway into the real RAG
service (real Redis, real embeddings): each file's stages and embedding progress in order, its
result, the whole answer last; a client that leaves mid-embedding stores nothing; the request's
own checks still answer JSON before any event; the JSON form is unchanged."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from email.message import EmailMessage
from typing import Any

import httpx
from redis.asyncio import Redis

from ragis.store import Keys
from support.fixtures import RagFactory
from support.gateway_fixtures import GatewayFactory
from support.http import Event, read_events

SSE = {"Accept": "text/event-stream"}


def manual(n: int, topic: str = "pump") -> bytes:
    """`n` sentences, each its own small chunk at 32 tokens a chunk."""
    return "\n\n".join(
        f"Step {i} of the {topic} manual: close valve {i}, then read gauge {i} twice."
        for i in range(n)
    ).encode()


@contextmanager
def stack(
    start_rag: RagFactory, start_gateway: GatewayFactory, rag: dict[str, Any], **gateway: Any
) -> Iterator[str]:
    settings = {"chunk_tokens": 32, "chunk_overlap": 0, **gateway}
    with start_rag(**rag) as rag_url, start_gateway(rag_urls=[rag_url], **settings) as url:
        yield url


@asynccontextmanager
async def client(url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=url, timeout=120) as c:
        yield c


def upload_files(*files: tuple[str, bytes], **fields: str) -> dict[str, Any]:
    return {
        "files": [("file", (name, data)) for name, data in files],
        "data": {"collection": "manuals", **fields},
    }


async def events_of(c: httpx.AsyncClient, *files: tuple[str, bytes]) -> list[Event]:
    async with c.stream(
        "POST", "/api/documents/upload", headers=SSE, **upload_files(*files)
    ) as response:
        assert response.status_code == 200, (await response.aread()).decode()
        assert response.headers["content-type"].startswith("text/event-stream")
        return [e async for e in read_events(response)]


async def test_a_multi_batch_file_streams_its_stages_and_progress_in_order(
    start_rag: RagFactory, start_gateway: GatewayFactory
) -> None:
    with stack(start_rag, start_gateway, {"embed_batch_size": 4}) as url:
        async with client(url) as c:
            events = await events_of(c, ("pump.txt", manual(24)))
    kinds = [(e.type, e.data.get("stage")) for e in events]
    assert kinds[:4] == [("stage", "upload"), ("stage", "parse"), ("stage", "chunk"),
                         ("stage", "embed")]  # fmt: skip
    progress = [e.data for e in events if e.type == "progress"]
    file_event = next(e.data for e in events if e.type == "file")
    total = file_event["result"]["chunks"]
    assert total > 8, "the file should take several batches"
    assert [p["embedded"] for p in progress] == [*range(4, total, 4), total]
    assert {p["total"] for p in progress} == {total}
    assert {(p["index"], p["file"]) for p in progress} == {(0, "pump.txt")}
    assert progress[-1]["eta_ms"] == 0
    assert all(p["eta_ms"] is None or p["eta_ms"] >= 0 for p in progress)
    assert kinds[4 + len(progress) :] == [("stage", "done"), ("file", None), ("done", None)]
    assert file_event["index"] == 0
    assert file_event["result"]["ok"] is True
    done = events[-1].data["upload"]
    assert done["collection"] == "manuals"
    assert done["results"] == [file_event["result"]]
    assert "error" not in done


async def test_each_file_has_its_events_and_a_failed_one_its_result(
    start_rag: RagFactory, start_gateway: GatewayFactory
) -> None:
    with stack(start_rag, start_gateway, {}) as url:
        async with client(url) as c:
            events = await events_of(
                c, ("a.txt", manual(3, "boiler")), ("empty.txt", b""), ("b.txt", manual(2))
            )
    files = [e.data for e in events if e.type == "file"]
    assert [(f["index"], f["result"]["filename"], f["result"]["ok"]) for f in files] == [
        (0, "a.txt", True), (1, "empty.txt", False), (2, "b.txt", True)
    ]  # fmt: skip
    failed_stages = [e.data["stage"] for e in events if e.type == "stage" and e.data["index"] == 1]
    assert "done" not in failed_stages
    assert files[1]["result"]["error"]["code"]
    assert events[-1].type == "done"
    assert [r["ok"] for r in events[-1].data["upload"]["results"]] == [True, False, True]


async def test_when_every_file_fails_the_stream_ends_with_the_answers_error(
    start_rag: RagFactory, start_gateway: GatewayFactory
) -> None:
    with stack(start_rag, start_gateway, {}) as url:
        async with client(url) as c:
            events = await events_of(c, ("empty.txt", b""))
            as_json = await c.post("/api/documents/upload", **upload_files(("empty.txt", b"")))
    done = events[-1].data["upload"]
    assert done["error"] == as_json.json()["error"]
    assert done["results"] == as_json.json()["results"]


async def test_without_the_accept_header_the_answer_is_json_as_before(
    start_rag: RagFactory, start_gateway: GatewayFactory
) -> None:
    with stack(start_rag, start_gateway, {}) as url:
        async with client(url) as c:
            answer = await c.post("/api/documents/upload", **upload_files(("a.txt", manual(3))))
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    body = answer.json()
    assert set(body) == {"collection", "results"}
    assert body["results"][0]["ok"] is True


async def test_an_upload_over_the_limit_is_a_json_413_before_any_event(
    start_rag: RagFactory, start_gateway: GatewayFactory
) -> None:
    with stack(start_rag, start_gateway, {}, max_upload_mb=1) as url:
        async with client(url) as c:
            big = await c.post(
                "/api/documents/upload", headers=SSE,
                **upload_files(("big.txt", b"x" * (1024 * 1024 + 10))),
            )  # fmt: skip
            bad_form = await c.post(
                "/api/documents/upload", headers=SSE,
                **upload_files(("a.txt", b"text"), collection="no such/name"),
            )  # fmt: skip
            too_many_tags = await c.post(
                "/api/documents/upload", headers=SSE,
                **upload_files(("a.txt", b"text"), tags=",".join(f"t{i}" for i in range(33))),
            )  # fmt: skip
            bad_tag = await c.post(
                "/api/documents/upload", headers=SSE,
                **upload_files(("a.txt", b"text"), tags="ok,back\\slash"),
            )  # fmt: skip
    assert big.status_code == 413
    assert big.headers["content-type"].startswith("application/json")
    assert big.json()["error"]["code"] == "too_large"
    for refused in (bad_form, too_many_tags, bad_tag):
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"].startswith("application/json")


async def test_a_long_quiet_stretch_gets_ping_comments(
    start_rag: RagFactory, start_gateway: GatewayFactory
) -> None:
    """A heartbeat shorter than any stage: pings come between the events."""
    with stack(start_rag, start_gateway, {"embed_batch_size": 64}, sse_heartbeat=0.001) as url:
        async with (
            client(url) as c,
            c.stream(
                "POST", "/api/documents/upload", headers=SSE, **upload_files(("a.txt", manual(60)))
            ) as response,
        ):
            text = (await response.aread()).decode()
    assert ": ping\n\n" in text
    assert text.rstrip().splitlines()[-2].startswith("event: done")


async def test_a_client_that_leaves_mid_embedding_stores_nothing(
    start_rag: RagFactory, start_gateway: GatewayFactory, redis: Redis, prefix: str
) -> None:
    """The stream closed after the first progress event: the gateway closes its `/index`
    request and the RAG service removes what it wrote. Its lease is long, so recovery (after a
    lease lapses) cannot be what removed it. The collection's version is where it was."""
    rag = {"embed_batch_size": 2, "index_lease": 3600}
    keys = Keys(prefix).collection("manuals")
    with stack(start_rag, start_gateway, rag) as url:
        async with client(url) as c:
            kept = await c.post("/api/documents/upload", **upload_files(("a.txt", manual(2))))
            assert kept.status_code == 200
            version = await redis.hget(keys.meta, "version")
            vectors = await redis.execute_command("VCARD", keys.vectors)
            async with c.stream(
                "POST", "/api/documents/upload", headers=SSE,
                **upload_files(("long.txt", manual(400, "turbine"))),
            ) as response:  # fmt: skip
                async for event in read_events(response):
                    if event.type == "progress":
                        break
            assert await nothing_left(redis, keys, vectors)
            assert await redis.hget(keys.meta, "version") == version
            listed = (await c.get("/api/documents", params={"collection": "manuals"})).json()
            assert [d["filename"] for d in listed["documents"]] == ["a.txt"]


async def nothing_left(redis: Redis, keys: Any, vectors: int, within: float = 120.0) -> bool:
    """Whether only the first document's keys are left, waiting for the cleanup to finish."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        docs = await redis.zcard(keys.docs)
        busy = await redis.scard(keys.ingesting)
        chunks = [k async for k in redis.scan_iter(match=f"{keys.base}:chunk:*")]
        leases = [k async for k in redis.scan_iter(match=f"{keys.base}:lease:*")]
        now = await redis.execute_command("VCARD", keys.vectors)
        if (docs, busy, len(chunks), leases, now) == (1, 0, vectors, [], vectors):
            return True
        await asyncio.sleep(0.05)
    return False


async def test_a_new_document_keeps_its_original_and_a_refusal_to_keep_it_fails_nothing(
    start_rag: RagFactory, start_gateway: GatewayFactory
) -> None:
    with stack(start_rag, start_gateway, {}) as url:
        async with client(url) as c:
            events = await events_of(c, ("a.txt", manual(2)))
            doc = events[-1].data["upload"]["results"][0]["document_id"]
            record = await c.get(f"/api/documents/{doc}", params={"collection": "manuals"})
            assert record.json()["original"] is True
    # The RAG service keeps none (0 MiB) while the gateway would: the upload still succeeds.
    with stack(start_rag, start_gateway, {"keep_originals_mb": 0}) as url:
        async with client(url) as c:
            answer = await c.post("/api/documents/upload", **upload_files(("b.txt", manual(3))))
            assert answer.status_code == 200, answer.text
            doc = answer.json()["results"][0]["document_id"]
            record = await c.get(f"/api/documents/{doc}", params={"collection": "manuals"})
            assert record.json()["original"] is False


async def test_an_emails_attachments_add_no_events_of_their_own(
    start_rag: RagFactory, start_gateway: GatewayFactory
) -> None:
    """The attachments are ingested as their own documents, their results inside the mail's,
    with no stage or progress events that would read as the mail's own."""
    message = EmailMessage()
    message["Subject"] = "Winter berths"
    message.set_content("Berths for the winter are assigned in the attached plan.\n")
    message.add_attachment(
        b"The ketch Albatross takes winter berth B-17 from November.\n",
        maintype="text", subtype="plain", filename="berths.txt",
    )  # fmt: skip
    with stack(start_rag, start_gateway, {}) as url:
        async with client(url) as c:
            events = await events_of(c, ("winter.eml", message.as_bytes()))
            listed = (await c.get("/api/documents", params={"collection": "manuals"})).json()
    stages = [e.data["stage"] for e in events if e.type == "stage"]
    assert stages == ["upload", "parse", "chunk", "embed", "done"]
    result = next(e.data for e in events if e.type == "file")["result"]
    assert [(a["filename"], a["ok"]) for a in result["attachments"]] == [("berths.txt", True)]
    assert sorted(d["filename"] for d in listed["documents"]) == ["berths.txt", "winter.eml"]
