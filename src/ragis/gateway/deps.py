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


def _services(request: Request) -> GatewayServices:
    services: GatewayServices = request.app.state.services
    return services


def _settings(request: Request) -> GatewaySettings:
    return _services(request).settings


def _rag(request: Request) -> RagClient:
    return _services(request).rag


def _pipeline(request: Request) -> Pipeline:
    return _services(request).pipeline


SettingsDep = Annotated[GatewaySettings, Depends(_settings)]
RagDep = Annotated[RagClient, Depends(_rag)]
PipelineDep = Annotated[Pipeline, Depends(_pipeline)]
