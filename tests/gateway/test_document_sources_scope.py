"""Sources, renames and replacements stay inside the caller's workspace and rights: another
workspace's document is a 404 to rename, invisible by source, and cannot be retired by naming
it in `replaces`; a viewer may not rename."""

from __future__ import annotations

import httpx

from support.gateway_fixtures import GatewayFactory
from support.signin import (
    ADMIN,
    ADMIN_PASSWORD,
    PASSWORD,
    auth_gateway,
    signed_in,
    team_with_viewer,
)

SECRET = b"The vault of the harbour office opens with the code 4471-TIDE.\n"
MINE = b"Bob's notes on knots: the bowline does not slip.\n"


async def upload(client: httpx.AsyncClient, data: bytes, **fields: str) -> httpx.Response:
    return await client.post(
        "/api/documents/upload",
        files=[("file", ("note.txt", data))],
        data={"collection": "sync", **fields},
    )


async def test_another_workspaces_document_cannot_be_renamed_found_or_retired(
    start_gateway: GatewayFactory, rag_url: str
) -> None:
    with auth_gateway(start_gateway, rag_urls=[rag_url]) as base:
        async with signed_in(base, ADMIN, ADMIN_PASSWORD) as admin:
            await team_with_viewer(admin)
        async with (
            signed_in(base, "alice", PASSWORD) as alice,
            signed_in(base, "bob", PASSWORD) as bob,
        ):
            made = await upload(alice, SECRET, source="vault.txt")
            assert made.status_code == 200, made.text
            secret = made.json()["results"][0]["document_id"]

            renamed = await bob.patch(
                f"/api/documents/{secret}", params={"collection": "sync"},
                json={"source": "stolen.txt"},
            )  # fmt: skip
            assert renamed.status_code == 404, renamed.text
            listed = await bob.get(
                "/api/documents", params={"collection": "sync", "source": "vault.txt"}
            )
            # Bob's own workspace: Alice's document is not there to find.
            assert listed.status_code == 200, listed.text
            assert listed.json()["documents"] == []
            # Bob's own upload naming Alice's document in `replaces`: his is stored, hers stays.
            own = await upload(bob, MINE, source="knots.txt", replaces=secret)
            assert own.status_code == 200, own.text
            assert own.json()["results"][0]["retired"] is None
            still = await alice.get(
                "/api/documents", params={"collection": "sync", "source": "vault.txt"}
            )
            assert [d["id"] for d in still.json()["documents"]] == [secret]

            # A viewer of a shared workspace may read, not rename.
            team = {"X-Ragis-Workspace": "team"}
            async with signed_in(base, ADMIN, ADMIN_PASSWORD) as admin:
                admin.headers.update(team)
                shared = await upload(admin, MINE, source="team/knots.txt")
                assert shared.status_code == 200, shared.text
                doc = shared.json()["results"][0]["document_id"]
            bob.headers.update(team)
            refused = await bob.patch(
                f"/api/documents/{doc}", params={"collection": "sync"}, json={"source": "x.txt"}
            )
            assert refused.status_code == 403, refused.text
