"""The RAG service answers only the gateway: the internal token on every path, then the caller.

Every route of the service (read from its own schema), its schema, its docs, /health and a path
that does not exist: 401 `unauthenticated` with `WWW-Authenticate` without the token, with a
wrong one, with the token under another scheme. Data routes then need the workspace and user
headers (422 without or with a malformed one). No token set: the service does not start.
"""

from __future__ import annotations

import re

import httpx
import pytest

from ragis.contract import USER_HEADER, WORKSPACE_HEADER
from ragis.embedding import Embedder
from ragis.errors import ConfigError
from ragis.rag.app import create_app
from ragis.rag.settings import load_rag_settings
from support.fixtures import INTERNAL_TOKEN, RAG_HEADERS, RagFactory

WRONG = [
    {},
    {"Authorization": "Bearer " + "y" * len(INTERNAL_TOKEN)},
    {"Authorization": "Bearer " + INTERNAL_TOKEN[:-1]},
    {"Authorization": "Bearer " + INTERNAL_TOKEN + "x"},
    {"Authorization": "Basic " + INTERNAL_TOKEN},
    {"Authorization": INTERNAL_TOKEN},
    {"Authorization": "Bearer"},
]


async def every_operation(client: httpx.AsyncClient) -> list[tuple[str, str]]:
    schema = (await client.get("/openapi.json", headers=RAG_HEADERS)).json()
    operations = [
        (method.upper(), re.sub(r"\{[^}]+\}", "x", path))
        for path, methods in schema["paths"].items()
        for method in methods
    ]
    return [*operations, ("GET", "/openapi.json"), ("GET", "/docs"), ("GET", "/nope")]


@pytest.mark.parametrize("headers", WRONG, ids=lambda h: h.get("Authorization", "none")[:12])
async def test_every_path_refuses_a_request_without_the_right_token(
    start_rag: RagFactory, headers: dict[str, str]
) -> None:
    with start_rag() as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            operations = await every_operation(client)
            assert ("GET", "/health") in operations
            assert ("DELETE", "/workspace") in operations
            for method, path in operations:
                caller = {WORKSPACE_HEADER: "default", USER_HEADER: "local"}
                response = await client.request(
                    method, path, headers={**caller, **headers}, json={}
                )
                assert response.status_code == 401, (method, path, response.text)
                assert response.json()["error"]["code"] == "unauthenticated"
                assert response.headers["www-authenticate"].startswith("Bearer")
                assert INTERNAL_TOKEN not in response.text


async def test_the_token_lets_a_request_through(rag: httpx.AsyncClient) -> None:
    assert (await rag.get("/health")).status_code == 200
    assert (await rag.get("/collections")).status_code == 200


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/collections", "GET"),
        ("/collections/default/documents", "GET"),
        ("/sessions/abc", "GET"),
        ("/index/default/abc", "DELETE"),
        ("/workspace", "DELETE"),
    ],
)
async def test_data_routes_need_a_well_formed_workspace_and_user(
    start_rag: RagFactory, path: str, method: str
) -> None:
    token = {"Authorization": f"Bearer {INTERNAL_TOKEN}"}
    with start_rag() as url:
        async with httpx.AsyncClient(base_url=url, timeout=30, headers=token) as client:
            for caller in (
                {},
                {WORKSPACE_HEADER: "default"},
                {USER_HEADER: "local"},
                {WORKSPACE_HEADER: "../x", USER_HEADER: "local"},
                {WORKSPACE_HEADER: "a:b", USER_HEADER: "local"},
                {WORKSPACE_HEADER: "default", USER_HEADER: "Alice"},
                {WORKSPACE_HEADER: "", USER_HEADER: "local"},
            ):
                response = await client.request(method, path, headers=caller)
                assert response.status_code == 422, (caller, response.text)
                assert response.json()["error"]["code"] == "invalid_request"


async def test_the_chat_and_index_need_the_caller_too(start_rag: RagFactory) -> None:
    token = {"Authorization": f"Bearer {INTERNAL_TOKEN}"}
    with start_rag() as url:
        async with httpx.AsyncClient(base_url=url, timeout=30, headers=token) as client:
            chat = await client.post("/chat/stream", json={"message": "hi"})
            assert chat.status_code == 422
            assert WORKSPACE_HEADER.lower() in chat.text.lower()


def test_the_service_does_not_start_without_a_token(embedder: Embedder) -> None:
    settings = load_rag_settings(_env_file=None, redis_url="redis://127.0.0.1:1")
    assert settings.internal_token is None
    with pytest.raises(ConfigError, match="RAGIS_INTERNAL_TOKEN"):
        create_app(settings, embedder=embedder)
