"""`PATCH /collections/{c}/documents/{id}` with `tags`: a search by the new tag finds the document
at once and by the old one not, no re-embedding; a cached answer filtered by a tag does not
outlive the edit; hostile bodies are refused with 422."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from ragis.store import Keys
from support.http import Event, collect_events
from support.llm_servers import OpenAIServer, Reply
from support.texts import index_body

MEMO = "What does the orchard memo say?"


def key(prefix: str, suffix: str) -> str:
    return f"{Keys(prefix).collection('default').base}:{suffix}"


async def found(rag: httpx.AsyncClient, tag: str) -> set[str]:
    answer = await rag.post(
        "/search", json={"query": "orchard memo", "filter": {"tags": [tag]}, "top_k": 10}
    )
    assert answer.status_code == 200, answer.text
    return {p["doc_id"] for p in answer.json()["passages"]}


async def patch(rag: httpx.AsyncClient, doc_id: str, body: Any) -> httpx.Response:
    return await rag.patch(f"/collections/default/documents/{doc_id}", json=body)


async def test_new_tags_are_found_at_once_and_the_old_ones_not(
    rag: httpx.AsyncClient, redis: Redis, prefix: str
) -> None:
    body = index_body("memo.txt", ["Orchard memo: the apples.", "Orchard memo: the pears."],
                      doc_id="memo", tags=["draft"])  # fmt: skip
    assert (await rag.post("/index", json=body)).status_code == 200
    assert await found(rag, "draft") == {"memo"}
    vectors = await redis.execute_command("VCARD", key(prefix, "vectors"))

    changed = await patch(rag, "memo", {"tags": [" final ", "orchard", "final"]})

    assert changed.status_code == 200, changed.text
    assert changed.json()["tags"] == ["final", "orchard"]
    assert await found(rag, "final") == {"memo"}
    assert await found(rag, "orchard") == {"memo"}
    assert await found(rag, "draft") == set()
    listed = (await rag.get("/collections/default/documents")).json()["documents"]
    assert listed[0]["tags"] == ["final", "orchard"]
    # Nothing was embedded again: the same vectors, the same chunks.
    assert await redis.execute_command("VCARD", key(prefix, "vectors")) == vectors


async def test_source_and_tags_change_together_and_either_alone(rag: httpx.AsyncClient) -> None:
    body = index_body("memo.txt", ["Orchard memo."], doc_id="memo", tags=["a"])
    assert (await rag.post("/index", json=body)).status_code == 200
    both = await patch(rag, "memo", {"source": "notes/memo.txt", "tags": ["b"]})
    assert (both.json()["source"], both.json()["tags"]) == ("notes/memo.txt", ["b"])
    source_only = await patch(rag, "memo", {"source": "memo.txt"})
    assert (source_only.json()["source"], source_only.json()["tags"]) == ("memo.txt", ["b"])
    cleared = await patch(rag, "memo", {"tags": []})
    assert (cleared.json()["source"], cleared.json()["tags"]) == ("memo.txt", [])


async def test_a_cached_answer_filtered_by_a_tag_does_not_outlive_the_edit(
    rag: httpx.AsyncClient, llm: OpenAIServer
) -> None:
    for name, tag in (("apples.txt", "public"), ("pears.txt", "private")):
        text = f"Orchard memo: the {name[:-4]} are kept."
        body = index_body(name, [text], doc_id=name[:-4], tags=[tag])
        assert (await rag.post("/index", json=body)).status_code == 200

    def files(events: list[Event]) -> set[str]:
        citations = next(e for e in events if e.type == "citations").data["citations"]
        return {c["filename"] for c in citations}

    async def ask() -> list[Event]:
        llm.script(Reply(tokens=["The memo [1]."]))
        return await collect_events(
            rag, "/chat/stream", {"message": MEMO, "filter": {"tags": ["public"]}}
        )

    first = await ask()
    assert files(first) == {"apples.txt"}
    again = await ask()
    assert again[0].data["cache_hit"] is True
    assert (await patch(rag, "pears", {"tags": ["public"]})).status_code == 200
    after = await ask()
    assert after[0].data["cache_hit"] is False
    assert files(after) == {"apples.txt", "pears.txt"}


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"tags": None},
        {"tags": [f"t{i}" for i in range(33)]},
        {"tags": ["x" * 65]},
        {"tags": ["bell\x07"]},
        {"tags": ["new\nline"]},
        {"tags": ["   "]},
        {"tags": [["nested"]]},
        {"tags": [{"a": {"b": ["c"]}}]},
        {"tags": "one,two"},
        {"tags": [1]},
        {"tags": ["back\\slash"]},
        {"tags": ["ok"], "status": "ready"},
        {"source": ""},
    ],
)
async def test_hostile_bodies_are_refused_and_change_nothing(
    rag: httpx.AsyncClient, body: Any
) -> None:
    made = index_body("memo.txt", ["Orchard memo."], doc_id="memo", tags=["keep"])
    assert (await rag.post("/index", json=made)).status_code == 200
    refused = await patch(rag, "memo", body)
    assert refused.status_code == 422, refused.text
    assert set(refused.json()["error"]) == {"code", "message"}
    assert (await rag.get("/collections/default/documents/memo")).json()["tags"] == ["keep"]


async def test_an_unknown_document_or_collection_is_404(rag: httpx.AsyncClient) -> None:
    made = index_body("memo.txt", ["Orchard memo."], doc_id="memo")
    assert (await rag.post("/index", json=made)).status_code == 200
    assert (await patch(rag, "nope", {"tags": ["a"]})).status_code == 404
    other = await rag.patch("/collections/nothing/documents/memo", json={"tags": ["a"]})
    assert other.status_code == 404
