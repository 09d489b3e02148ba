"""Nothing half-written after a crash: `kill -9` of the RAG service or of Redis mid-ingest.

Each test begins a large ingest, kills a real process with SIGKILL once part of the document
is written (waiting on Redis, never on the clock), brings it back, and checks what a user
sees: no document stays `ingesting`, no vector or chunk of an unfinished document is left, the
collection's counts equal the chunks of its ready documents, and uploading the same files again
converges (each file once, ready, nothing counted twice).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from ragis.db import EmbeddedRedis
from ragis.store import ChunkText, DocumentRecord, Store
from support.fixtures import INTERNAL_TOKEN, RAG_HEADERS, RagFactory, rag_client
from support.gateway_fixtures import GatewayFactory
from support.net import free_port
from support.texts import index_body
from support.vectors import unit

LEASE = 2.0  # seconds: RAGIS_INDEX_LEASE of the services these tests start

WORDS = [
    "river", "mountain", "harbour", "lantern", "copper", "meadow", "violin", "glacier",
    "orchard", "canyon", "falcon", "compass", "theatre", "pepper", "marble", "saddle",
    "quartz", "ember", "tundra", "walnut",
]  # fmt: skip


def big_document(chunks: int, seed: int = 0) -> list[str]:
    """`chunks` short, distinct passages: enough embedding work to be killed halfway through."""
    return [
        " ".join(WORDS[(i * 7 + j * 3 + seed) % len(WORDS)] for j in range(24)) + f" part {i}."
        for i in range(chunks)
    ]


SMALL = {
    "etna.md": ["Mount Etna is an active stratovolcano on the east coast of Sicily."],
    "bread.txt": ["Sourdough rises with a starter of wild yeast.", "Bake it at 250 degrees."],
}


def bodies(big_chunks: int) -> list[dict[str, Any]]:
    """The files of one `ragis ingest`, as the gateway sends them: a fresh id every time."""
    return [
        *(index_body(name, texts) for name, texts in SMALL.items()),
        index_body("big.txt", big_document(big_chunks)),
    ]


async def ingesting(redis: Redis, prefix: str) -> list[str]:
    """Ids of the records in status `ingesting`, read from the records themselves."""
    base = f"{prefix}:w:default:{{c:default/default}}"
    ids = [i.decode() for i in await redis.zrange(f"{base}:docs", 0, -1)]
    return [i for i in ids if await redis.hget(f"{base}:doc:{i}", "status") == b"ingesting"]


async def wait_until_half_written(redis: Redis, prefix: str, at_least: int) -> str:
    """Until a document is `ingesting` with at least `at_least` vectors in the collection;
    returns its id. (The bound only turns a document that never shows up into a failure.)"""
    vectors = f"{prefix}:w:default:{{c:default/default}}:vectors"
    deadline = time.monotonic() + 300
    while True:
        ids = await ingesting(redis, prefix)
        if ids and int(await redis.execute_command("VCARD", vectors)) >= at_least:
            (doc_id,) = ids
            return doc_id
        assert time.monotonic() < deadline, "no document was half-written"
        await asyncio.sleep(0.02)


async def documents(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    while True:
        try:
            response = await client.get("/collections/default/documents")
        except httpx.TransportError:
            response = None
        if response is not None and response.status_code == 200:
            listed: list[dict[str, Any]] = response.json()["documents"]
            return listed
        await asyncio.sleep(0.1)  # Redis or the service coming back


async def settle(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    """The listing once no document is `ingesting` (recovery runs within about two leases;
    the bound is only there so that a document stuck for good fails instead of hanging)."""
    deadline = time.monotonic() + 30 * LEASE
    while True:
        listed = await documents(client)
        if all(d["status"] != "ingesting" for d in listed):
            return listed
        assert time.monotonic() < deadline, f"still ingesting without a writer: {listed}"
        await asyncio.sleep(0.2)


async def assert_consistent(
    client: httpx.AsyncClient, redis: Redis, prefix: str
) -> list[dict[str, Any]]:
    """No half document anywhere; the counts equal what is searchable. Returns the listing."""
    listed = await settle(client)
    assert {d["status"] for d in listed} <= {"ready"}, listed
    ready_chunks = sum(d["chunks"] for d in listed)
    base = f"{prefix}:w:default:{{c:default/default}}"
    assert int(await redis.execute_command("VCARD", f"{base}:vectors")) == ready_chunks
    chunk_keys = [k async for k in redis.scan_iter(match=f"{base}:chunk:*", count=1000)]
    assert len(chunk_keys) == ready_chunks
    ready_ids = {d["id"] for d in listed}
    assert {k.decode().split(":chunk:")[1].rsplit(":", 1)[0] for k in chunk_keys} <= ready_ids
    assert [k async for k in redis.scan_iter(match=f"{base}:lease:*")] == []
    assert not await redis.exists(f"{base}:ingesting")
    info = (await client.get("/collections")).json()["collections"]
    assert [(c["name"], c["documents"], c["chunks"]) for c in info] == [
        ("default", len(listed), ready_chunks)
    ]
    return listed


async def rerun_converges(
    client: httpx.AsyncClient, redis: Redis, prefix: str, big_chunks: int
) -> None:
    """Ingesting the same files again, twice: each file once, ready, counted once."""
    for _ in range(2):
        for body in bodies(big_chunks):
            response = await client.post("/index", json=body, timeout=600)
            assert response.status_code == 200, response.text
        listed = await assert_consistent(client, redis, prefix)
        assert sorted(d["filename"] for d in listed) == sorted([*SMALL, "big.txt"])
        assert sum(d["chunks"] for d in listed) == 3 + big_chunks


# --- kill -9 of the RAG service -------------------------------------------------------------


@contextmanager
def rag_process(
    tmp_path: Path, redis_url: str, prefix: str
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """`python -m ragis.rag` as `ragis up` runs it, on a free port; yields it and its URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAGIS_", "REDIS_", "OPENAI"))}
    env.update(
        REDIS_URL=redis_url, RAGIS_KEY_PREFIX=prefix, RAGIS_RAG_PORT=str(port),
        RAGIS_LLM_PROVIDER="none", RAGIS_INDEX_LEASE=str(LEASE), RAGIS_EMBED_BATCH="16",
        # An explicit backend: loaded at once, without measuring the others first.
        RAGIS_EMBED_BACKEND="torch-fp32", RAGIS_MODEL_CACHE=str(tmp_path / "models"),
        RAGIS_DATA_DIR=str(tmp_path / "data"), PYTHONUNBUFFERED="1",
        RAGIS_INTERNAL_TOKEN=INTERNAL_TOKEN,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    with (tmp_path / f"rag-{port}.log").open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "ragis.rag"], env=env, cwd=tmp_path,
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 300
            while True:
                assert proc.poll() is None, (tmp_path / f"rag-{port}.log").read_text()
                try:
                    if (
                        httpx.get(url + "/health", headers=RAG_HEADERS, timeout=2).status_code
                        == 200
                    ):
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "the RAG service did not start"
                time.sleep(0.2)
            yield proc, url
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def post_in_background(url: str, body: dict[str, Any]) -> threading.Thread:
    """POST /index from a thread; the answer (or the broken connection) is not awaited."""

    def post() -> None:
        # The service is killed under it: that is the point.
        with contextlib.suppress(httpx.TransportError):
            httpx.post(url + "/index", json=body, headers=RAG_HEADERS, timeout=600)

    thread = threading.Thread(target=post, daemon=True)
    thread.start()
    return thread


async def test_kill_9_of_the_rag_service_mid_ingest_leaves_nothing_half_written(
    tmp_path: Path,
    redis_server: EmbeddedRedis,
    redis: Redis,
    prefix: str,
    start_gateway: GatewayFactory,
) -> None:
    big = 600
    with rag_process(tmp_path, redis_server.url, prefix) as (first, url):
        async with rag_client(url, timeout=60) as client:
            for body in bodies(big)[:2]:
                assert (await client.post("/index", json=body)).status_code == 200
        sender = post_in_background(url, bodies(big)[2])
        await wait_until_half_written(redis, prefix, at_least=3 + 16)
        first.send_signal(signal.SIGKILL)
        first.wait()
        sender.join(60)

    # The crash left what the issue found: a record stuck in `ingesting`, its orphan vectors.
    base = f"{prefix}:w:default:{{c:default/default}}"
    assert len(await ingesting(redis, prefix)) == 1
    vectors = int(await redis.execute_command("VCARD", f"{base}:vectors"))
    assert 3 < vectors < 3 + big

    with rag_process(tmp_path, redis_server.url, prefix) as (_, url):
        async with rag_client(url, timeout=60) as client:
            listed = await assert_consistent(client, redis, prefix)
            assert sorted(d["filename"] for d in listed) == sorted(SMALL)
            # `ragis ingest` of the same files, through a gateway, twice: converges.
            folder = tmp_path / "files"
            folder.mkdir()
            for body in bodies(big):
                texts = [c["text"] for c in body["chunks"]]
                (folder / body["document"]["filename"]).write_text("\n".join(texts))
            with start_gateway(rag_urls=[url]) as gateway:
                first = await asyncio.to_thread(ragis_ingest, gateway, folder)
                assert first.returncode == 0, first.stdout + first.stderr
                assert "1 document(s) ingested" in first.stdout
                assert "2 duplicate(s) skipped, 0 failure(s)" in first.stdout
                again = await asyncio.to_thread(ragis_ingest, gateway, folder)
                assert again.returncode == 0, again.stdout + again.stderr
                assert "0 document(s) ingested" in again.stdout
                assert "3 duplicate(s) skipped, 0 failure(s)" in again.stdout
            listed = await assert_consistent(client, redis, prefix)
            assert sorted(d["filename"] for d in listed) == sorted([*SMALL, "big.txt"])


def ragis_ingest(gateway: str, folder: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAGIS_", "REDIS_", "OPENAI"))}
    return subprocess.run(
        [sys.executable, "-m", "ragis", "ingest", str(folder)],
        env={**env, "RAGIS_GATEWAY_URL": gateway}, cwd=folder, capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip


# --- kill -9 of Redis -----------------------------------------------------------------------


async def test_kill_9_of_redis_mid_ingest_leaves_nothing_half_written(
    tmp_path: Path, start_rag: RagFactory, prefix: str
) -> None:
    big = 600
    server = EmbeddedRedis(tmp_path / "redis", port=free_port())
    server.start()
    try:
        with start_rag(redis_url=server.url, index_lease=LEASE, embed_batch_size=16) as url:
            redis = Redis.from_url(server.url)
            async with rag_client(url, timeout=600) as client:
                for body in bodies(big)[:2]:
                    assert (await client.post("/index", json=body)).status_code == 200
                ingest = asyncio.create_task(client.post("/index", json=bodies(big)[2]))
                await wait_until_half_written(redis, prefix, at_least=3 + 16)
                pid = server.pid
                assert pid is not None
                os.kill(pid, signal.SIGKILL)
                answer = await ingest
                assert answer.status_code == 503, answer.text
                await redis.aclose()

                server.stop()  # the process is gone: this only releases the data dir
                server.start()  # replays the AOF, perhaps without its last second
                redis = Redis.from_url(server.url)
                listed = await assert_consistent(client, redis, prefix)
                # AOF fsyncs every second: the last second before the kill may be lost.
                assert {d["filename"] for d in listed} <= set(SMALL)
                await rerun_converges(client, redis, prefix, big)
                await redis.aclose()
    finally:
        server.stop()


# --- the writer's lease, in one service -----------------------------------------------------


async def test_a_long_ingest_outlives_its_lease_by_renewing_it(
    start_rag: RagFactory, redis: Redis, prefix: str
) -> None:
    # Some seconds of embedding: several leases long (and recovery sweeps every lease).
    with start_rag(index_lease=LEASE, embed_batch_size=8) as url:
        async with rag_client(url, timeout=600) as client:
            body = index_body("big.txt", big_document(300))
            response = await client.post("/index", json=body)
            assert response.status_code == 200, response.text
            assert response.json()["chunks"] == 300
            listed = await assert_consistent(client, redis, prefix)
            assert [(d["filename"], d["status"]) for d in listed] == [("big.txt", "ready")]


async def test_a_writer_that_lost_its_lease_stops_and_keeps_nothing(
    start_rag: RagFactory, redis: Redis, prefix: str
) -> None:
    with start_rag(index_lease=1.0, embed_batch_size=8) as url:
        async with rag_client(url, timeout=600) as client:
            ingest = asyncio.create_task(
                client.post("/index", json=index_body("big.txt", big_document(400)))
            )
            doc_id = await wait_until_half_written(redis, prefix, at_least=8)
            # As if the writer had stalled past its lease and recovery had taken it over.
            await redis.delete(f"{prefix}:w:default:{{c:default/default}}:lease:{doc_id}")
            response = await ingest
            assert response.status_code == 503, response.text
            assert response.json()["error"]["code"] == "index_interrupted"
            assert "upload it again" in response.json()["error"]["message"]
            assert await assert_consistent(client, redis, prefix) == []


async def abandon(store: Store, doc_id: str, sha256: str, *, written: int, planned: int) -> None:
    """What a writer killed after `written` of `planned` chunks leaves: a begun record, those
    chunks and vectors, and a lease that has expired."""
    info = await store.collections.require("default")
    record = DocumentRecord(
        id=doc_id, filename="etna.md", content_type="text/plain", size=1, sha256=sha256,
        chunk_count=planned,
    )  # fmt: skip
    await store.documents.begin("default", record, lease_ms=5)
    chunks = [ChunkText(f"part {i}", i) for i in range(written)]
    await store.documents.write_chunks(
        info, record, chunks, [unit(i, info.dim) for i in range(written)]
    )
    while await store.redis.exists(store.keys.collection("default").lease(doc_id)):
        await asyncio.sleep(0.01)


async def test_an_upload_meeting_an_abandoned_copy_of_itself_converges(
    start_rag: RagFactory, store: Store, redis: Redis, prefix: str
) -> None:
    body = index_body("etna.md", SMALL["etna.md"])
    with start_rag(index_lease=30) as url:
        async with rag_client(url, timeout=60) as client:
            assert (await client.post("/collections", json={"name": "default"})).is_success
            await abandon(store, "dead", body["document"]["sha256"], written=3, planned=5)
            response = await client.post("/index", json=body)
            assert response.status_code == 200, response.text
            assert response.json()["duplicate"] is False
            listed = await assert_consistent(client, redis, prefix)
            assert [(d["filename"], d["status"]) for d in listed] == [("etna.md", "ready")]


async def test_a_listing_removes_a_document_whose_writer_is_gone(
    start_rag: RagFactory, store: Store, redis: Redis, prefix: str
) -> None:
    with start_rag(index_lease=30) as url:
        async with rag_client(url, timeout=60) as client:
            body = index_body("bread.txt", SMALL["bread.txt"])
            assert (await client.post("/index", json=body)).status_code == 200
            await abandon(store, "dead", "another-sha", written=4, planned=9)
            collection = (await client.get("/collections")).json()["collections"][0]
            assert collection["chunks"] == 2  # the orphans were removed before counting
            await abandon(store, "dead2", "another-sha", written=2, planned=9)
            one = await client.get("/collections/default/documents/dead2")
            assert one.status_code == 404
            listed = await assert_consistent(client, redis, prefix)
            assert [d["filename"] for d in listed] == ["bread.txt"]


@pytest.mark.parametrize("value", ["0", "-1", "0.1", "abc", "nan", "inf", "1e9", "30s"])
def test_a_bad_lease_is_refused_at_start_with_its_name(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ragis.errors import ConfigError
    from ragis.rag.settings import load_rag_settings

    monkeypatch.setenv("RAGIS_INDEX_LEASE", value)
    with pytest.raises(ConfigError, match="RAGIS_INDEX_LEASE"):
        load_rag_settings(_env_file=None)
