"""What the gateway's routes receive: the parts built once in the lifespan."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from ragis.gateway.pipeline import Pipeline
from ragis.gateway.rag_client import RagClient
from ragis.gateway.settings import GatewaySettings

__all__ = ["GatewayServices", "PipelineDep", "RagDep", "SettingsDep"]


@dataclass(slots=True)
class GatewayServices:
    settings: GatewaySettings
    rag: RagClient
    pipeline: Pipeline


def _get(request: Request) -> GatewayServices:
    services: GatewayServices = request.app.state.services
    return services


# Async on purpose: FastAPI runs a sync dependency in its thread pool, one hop per dependency
# per request, for what is only an attribute read.
async def _settings(request: Request) -> GatewaySettings:
    return _get(request).settings


async def _rag(request: Request) -> RagClient:
    return _get(request).rag


async def _pipeline(request: Request) -> Pipeline:
    return _get(request).pipeline


SettingsDep = Annotated[GatewaySettings, Depends(_settings)]
RagDep = Annotated[RagClient, Depends(_rag)]
PipelineDep = Annotated[Pipeline, Depends(_pipeline)]
