"""Documents with a source through the gateway: upload with it, list by it, replace, rename."""

from __future__ import annotations

import httpx

OLD = b"The Fresnel lens lets a lighthouse beam be seen twenty nautical miles out to sea.\n"
NEW = b"A lighthouse keeper trimmed the wicks and wound the clockwork every four hours.\n"


async def upload(client: httpx.AsyncClient, data: bytes, **fields: str) -> httpx.Response:
    return await client.post(
        "/api/documents/upload",
        files=[("file", ("keeper.txt", data))],
        data={"collection": "sync", **fields},
    )


async def by_source(client: httpx.AsyncClient, source: str) -> list[str]:
    response = await client.get("/api/documents", params={"collection": "sync", "source": source})
    assert response.status_code == 200, response.text
    return [d["id"] for d in response.json()["documents"]]


async def test_upload_with_a_source_then_replace_it_then_rename_it(
    gateway: httpx.AsyncClient,
) -> None:
    first = await upload(gateway, OLD, source="docs/keeper.txt")
    assert first.status_code == 200, first.text
    old_id = first.json()["results"][0]["document_id"]
    assert await by_source(gateway, "docs/keeper.txt") == [old_id]

    second = await upload(gateway, NEW, source="docs/keeper.txt", replaces=old_id)
    assert second.status_code == 200, second.text
    result = second.json()["results"][0]
    assert result["retired"] == old_id
    new_id = result["document_id"]
    listed = (await gateway.get("/api/documents", params={"collection": "sync"})).json()
    assert [(d["id"], d["source"]) for d in listed["documents"]] == [(new_id, "docs/keeper.txt")]
    assert (
        await gateway.get(f"/api/documents/{old_id}", params={"collection": "sync"})
    ).status_code == 404

    renamed = await gateway.patch(
        f"/api/documents/{new_id}", params={"collection": "sync"}, json={"source": "moved.txt"}
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["source"] == "moved.txt"
    assert await by_source(gateway, "docs/keeper.txt") == []
    assert await by_source(gateway, "moved.txt") == [new_id]


async def test_a_rename_to_a_taken_source_is_409_and_an_unknown_document_404(
    gateway: httpx.AsyncClient,
) -> None:
    await upload(gateway, OLD, source="a.txt")
    other = (await upload(gateway, NEW, source="b.txt")).json()["results"][0]["document_id"]
    taken = await gateway.patch(
        f"/api/documents/{other}", params={"collection": "sync"}, json={"source": "a.txt"}
    )
    assert taken.status_code == 409
    assert taken.json()["error"]["code"] == "source_taken"
    unknown = await gateway.patch(
        "/api/documents/nope", params={"collection": "sync"}, json={"source": "c.txt"}
    )
    assert unknown.status_code == 404


async def test_hostile_sources_and_replaces_are_refused(gateway: httpx.AsyncClient) -> None:
    assert (await upload(gateway, OLD, source="a" * 1025)).status_code == 422
    assert (await upload(gateway, OLD, replaces="../x")).status_code == 422
    two = await gateway.post(
        "/api/documents/upload",
        files=[("file", ("a.txt", OLD)), ("file", ("b.txt", NEW))],
        data={"collection": "sync", "source": "a.txt"},
    )
    assert two.status_code == 422
    surrogate = await gateway.patch(
        "/api/documents/abc",
        params={"collection": "sync"},
        content=b'{"source": "\\ud800"}',
        headers={"Content-Type": "application/json"},
    )
    assert surrogate.status_code == 422
    listed = (await gateway.get("/api/documents", params={"collection": "sync"})).json()
    assert listed["documents"] == []
