"""The RAG service migrates data of the layout before workspaces at start, before it serves."""

from __future__ import annotations

from redis.asyncio import Redis

from ragis.db.format import read_format
from ragis.settings import Settings
from support.fixtures import RagFactory, rag_client
from support.legacy import WIDE, build_legacy


async def test_the_service_serves_legacy_data_from_the_default_workspace(
    redis: Redis, settings: Settings, start_rag: RagFactory
) -> None:
    await build_legacy(redis, settings)
    assert await read_format(redis, settings.key_prefix) is None
    with start_rag() as url:
        assert await read_format(redis, settings.key_prefix) == 2
        async with rag_client(url) as rag:
            collections = (await rag.get("/collections")).json()["collections"]
            assert [(c["name"], c["documents"]) for c in collections] == [
                ("docs", 2),
                ("wide", len(WIDE)),
            ]
            documents = (await rag.get("/collections/docs/documents")).json()["documents"]
            assert [d["filename"] for d in documents] == ["one.txt", "two.txt"]
            session = (await rag.get("/sessions/s1")).json()
            assert [m["content"] for m in session["messages"]] == ["what is one?", "One [1]."]
        async with rag_client(url, **{"X-Ragis-Workspace": "other"}) as other:
            assert (await other.get("/collections")).json()["collections"] == []
            assert (await other.get("/sessions/s1")).status_code == 404
