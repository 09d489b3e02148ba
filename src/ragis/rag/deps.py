"""What the routes receive: the parts built once in the lifespan, as `Annotated` dependencies.

Data routes also receive who they work for: `CallerDep` reads the workspace and user headers the
gateway sends (422 if either is missing or malformed), and `WorkspaceStoreDep` is the store of
that workspace, so a route cannot reach another workspace's keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request

from ragis.contract.caller import (
    USER_HEADER,
    USERNAME_PATTERN,
    WORKSPACE_HEADER,
    WORKSPACE_PATTERN,
    Caller,
)
from ragis.embedding import Embedder
from ragis.embedding.registry import Embedders
from ragis.llm.base import LLMProvider
from ragis.rag.chat import ChatService
from ragis.rag.indexing import IndexService
from ragis.rag.search import Searcher
from ragis.rag.settings import RagSettings
from ragis.store import Store

__all__ = [
    "CallerDep",
    "ChatDep",
    "EmbedderDep",
    "EmbeddersDep",
    "IndexDep",
    "SearchDep",
    "Services",
    "ServicesDep",
    "SettingsDep",
    "StoreDep",
    "WorkspaceStoreDep",
]


@dataclass(slots=True)
class Services:
    settings: RagSettings
    store: Store
    #: The embedders by model id: `default` for a new collection, `await get(info.model)` for
    #: an existing one (its vectors' model).
    embedders: Embedders
    llm: LLMProvider | None
    indexer: IndexService
    chat: ChatService
    searcher: Searcher

    @property
    def embedder(self) -> Embedder:
        """The default embedder (what a new collection gets)."""
        return self.embedders.default


def _get(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


# Async on purpose: FastAPI runs a sync dependency in its thread pool, one hop per dependency
# per request, for what is only an attribute read.
async def _services(request: Request) -> Services:
    return _get(request)


async def _settings(request: Request) -> RagSettings:
    return _get(request).settings


async def _store(request: Request) -> Store:
    return _get(request).store


async def _embedder(request: Request) -> Embedder:
    return _get(request).embedders.default


async def _embedders(request: Request) -> Embedders:
    return _get(request).embedders


async def _indexer(request: Request) -> IndexService:
    return _get(request).indexer


async def _chat(request: Request) -> ChatService:
    return _get(request).chat


async def _searcher(request: Request) -> Searcher:
    return _get(request).searcher


ServicesDep = Annotated[Services, Depends(_services)]
SettingsDep = Annotated[RagSettings, Depends(_settings)]
StoreDep = Annotated[Store, Depends(_store)]
EmbedderDep = Annotated[Embedder, Depends(_embedder)]
EmbeddersDep = Annotated[Embedders, Depends(_embedders)]
IndexDep = Annotated[IndexService, Depends(_indexer)]
ChatDep = Annotated[ChatService, Depends(_chat)]
SearchDep = Annotated[Searcher, Depends(_searcher)]


async def _caller(
    workspace: Annotated[
        str,
        Header(
            alias=WORKSPACE_HEADER,
            pattern=WORKSPACE_PATTERN,
            description="The workspace the request works in (the gateway decides it).",
        ),
    ],
    user: Annotated[
        str,
        Header(
            alias=USER_HEADER,
            pattern=USERNAME_PATTERN,
            description="The user the request acts as (owner of the chat sessions it makes).",
        ),
    ],
) -> Caller:
    return Caller(workspace, user)


CallerDep = Annotated[Caller, Depends(_caller)]


async def _workspace_store(request: Request, caller: CallerDep) -> Store:
    return _get(request).store.scoped(caller.workspace)


WorkspaceStoreDep = Annotated[Store, Depends(_workspace_store)]
