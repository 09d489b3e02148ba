"""What the routes receive: the parts built once in the lifespan, as `Annotated` dependencies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from ragis.embedding import Embedder
from ragis.llm.base import LLMProvider
from ragis.rag.chat import ChatService
from ragis.rag.indexing import IndexService
from ragis.rag.settings import RagSettings
from ragis.store import Store

__all__ = [
    "ChatDep",
    "EmbedderDep",
    "IndexDep",
    "Services",
    "ServicesDep",
    "SettingsDep",
    "StoreDep",
]


@dataclass(slots=True)
class Services:
    settings: RagSettings
    store: Store
    embedder: Embedder
    llm: LLMProvider | None
    indexer: IndexService
    chat: ChatService


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def _settings(request: Request) -> RagSettings:
    return _services(request).settings


def _store(request: Request) -> Store:
    return _services(request).store


def _embedder(request: Request) -> Embedder:
    return _services(request).embedder


def _indexer(request: Request) -> IndexService:
    return _services(request).indexer


def _chat(request: Request) -> ChatService:
    return _services(request).chat


ServicesDep = Annotated[Services, Depends(_services)]
SettingsDep = Annotated[RagSettings, Depends(_settings)]
StoreDep = Annotated[Store, Depends(_store)]
EmbedderDep = Annotated[Embedder, Depends(_embedder)]
IndexDep = Annotated[IndexService, Depends(_indexer)]
ChatDep = Annotated[ChatService, Depends(_chat)]
