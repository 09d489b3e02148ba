"""The gateway client: what it sends (the key, the workspace) and the sentence each refusal
becomes, against a scripted HTTP server on loopback."""

from __future__ import annotations

from pathlib import Path

import pytest

from ragis.client.api import GatewayClient
from ragis.errors import Conflict, Forbidden, NotFound, Unauthenticated
from support.scripted_http import Handler, Reply, Request, scripted_server


def refusing(status: int, code: str, message: str) -> Handler:
    async def handler(request: Request, reply: Reply) -> None:
        await reply.json(status, {"error": {"code": code, "message": message}})

    return handler


async def test_the_key_and_the_workspace_go_in_headers_and_nothing_without_them() -> None:
    async def handler(request: Request, reply: Reply) -> None:
        await reply.json(200, {"status": "ok"})

    async with (
        scripted_server(handler) as server,
        GatewayClient(server.url, api_key="rgs_k", workspace="team") as client,
    ):
        await client.health()
        async with GatewayClient(server.url) as bare:
            await bare.health()
    with_key, without = server.requests
    assert with_key.headers["authorization"] == "Bearer rgs_k"
    assert with_key.headers["x-ragis-workspace"] == "team"
    assert "authorization" not in without.headers
    assert "x-ragis-workspace" not in without.headers


async def test_a_401_without_a_key_says_how_to_get_one() -> None:
    async with (
        scripted_server(refusing(401, "unauthenticated", "Sign in.")) as server,
        GatewayClient(server.url) as client,
    ):
        with pytest.raises(Unauthenticated) as caught:
            await client.keys()
    assert caught.value.message == (
        f"The gateway at {server.url} needs an API key: create one in the web UI (user menu > "
        "API keys) or with `ragis key create NAME`, then set RAGIS_API_KEY."
    )


async def test_a_401_with_a_key_says_the_key_is_refused_without_showing_it() -> None:
    async with (
        scripted_server(refusing(401, "unauthenticated", "Sign in.")) as server,
        GatewayClient(server.url, api_key="rgs_secret_value") as client,
    ):
        with pytest.raises(Unauthenticated) as caught:
            await client.users()
    assert "does not accept the API key in RAGIS_API_KEY" in caught.value.message
    assert "rgs_secret_value" not in caught.value.message


async def test_an_upload_refused_for_the_caller_stops_instead_of_failing_each_file(
    tmp_path: Path,
) -> None:
    path = tmp_path / "a.txt"
    path.write_text("hello")
    async with (
        scripted_server(refusing(404, "not_found", "No such workspace.")) as server,
        GatewayClient(server.url, workspace="elsewhere") as client,
    ):
        with pytest.raises(NotFound) as caught:
            await client.upload(path, collection="default")
    assert caught.value.message == (
        f"The gateway at {server.url} has no workspace 'elsewhere' that you are a member of: "
        "check the name, or ask one of its owners to add you."
    )


async def test_a_403_in_a_workspace_names_it() -> None:
    message = "Viewers may not upload."
    async with (
        scripted_server(refusing(403, "forbidden", message)) as server,
        GatewayClient(server.url, workspace="team") as client,
    ):
        with pytest.raises(Forbidden) as caught:
            await client.health()
    assert caught.value.message == "Refused in workspace 'team': Viewers may not upload."


async def test_a_403_that_names_its_workspace_is_left_as_it_is() -> None:
    message = "You are viewer of workspace 'team': this needs editor rights."
    async with (
        scripted_server(refusing(403, "forbidden", message)) as server,
        GatewayClient(server.url, workspace="team") as client,
    ):
        with pytest.raises(Forbidden) as caught:
            await client.health()
    assert caught.value.message == message


async def test_a_404_of_a_session_stays_the_gateways_sentence() -> None:
    message = "Session abc not found."
    async with (
        scripted_server(refusing(404, "not_found", message)) as server,
        GatewayClient(server.url, workspace="team") as client,
    ):
        with pytest.raises(NotFound) as caught:
            async for _ in client.chat("hi", session_id="abc"):
                pass
    assert caught.value.message == message


async def test_a_409_is_a_conflict_with_the_gateways_sentence() -> None:
    message = "Accounts are off (RAGIS_AUTH=off): there are no users to manage."
    async with (
        scripted_server(refusing(409, "auth_off", message)) as server,
        GatewayClient(server.url) as client,
    ):
        with pytest.raises(Conflict, match="Accounts are off"):
            await client.users()


async def test_names_in_paths_are_quoted() -> None:
    async def handler(request: Request, reply: Reply) -> None:
        await reply.json(200, {"revoked": True})

    async with scripted_server(handler) as server, GatewayClient(server.url) as client:
        await client.revoke_key("a/../b")
    assert server.requests[0].target == "/api/keys/a%2F..%2Fb"
