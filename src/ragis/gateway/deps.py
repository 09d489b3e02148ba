"""What the gateway's routes receive: the parts built once in the lifespan."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from ragis.accounts import Accounts
from ragis.accounts.preferences import UserPreferences
from ragis.errors import Conflict, RedisUnavailable
from ragis.gateway.pipeline import Pipeline
from ragis.gateway.rag_client import RagClient
from ragis.gateway.settings import GatewaySettings

__all__ = [
    "AccountsDep",
    "AuthOff",
    "GatewayServices",
    "PipelineDep",
    "PreferencesDep",
    "RagDep",
    "SettingsDep",
    "services_of",
]


class AuthOff(Conflict):
    """Managing users, keys and workspaces while RAGIS_AUTH is off (there are none)."""

    code = "auth_off"

    def __init__(self) -> None:
        super().__init__(
            "Sign-in is off (RAGIS_AUTH=off, or auto on a loopback address): there are no users, "
            "API keys or workspaces to manage. Set RAGIS_AUTH=on to use them."
        )


@dataclass(slots=True)
class GatewayServices:
    settings: GatewaySettings
    rag: RagClient
    pipeline: Pipeline
    #: The accounts in Redis; None while RAGIS_AUTH is off.
    accounts: Accounts | None = None
    #: The users' preferences (the accounts', or the local user's); None without Redis.
    preferences: UserPreferences | None = None


def services_of(request: Request) -> GatewayServices:
    services: GatewayServices = request.app.state.services
    return services


# Async on purpose: FastAPI runs a sync dependency in its thread pool, one hop per dependency
# per request, for what is only an attribute read.
async def _settings(request: Request) -> GatewaySettings:
    return services_of(request).settings


async def _rag(request: Request) -> RagClient:
    return services_of(request).rag


async def _pipeline(request: Request) -> Pipeline:
    return services_of(request).pipeline


async def _accounts(request: Request) -> Accounts:
    accounts = services_of(request).accounts
    if accounts is None:
        raise AuthOff()
    return accounts


async def _preferences(request: Request) -> UserPreferences:
    preferences = services_of(request).preferences
    if preferences is None:
        raise RedisUnavailable(
            "Preferences are kept in Redis, and this gateway does not reach it: set REDIS_URL "
            "to the Redis of the RAG service (`ragis up` sets it)."
        )
    return preferences


SettingsDep = Annotated[GatewaySettings, Depends(_settings)]
RagDep = Annotated[RagClient, Depends(_rag)]
PipelineDep = Annotated[Pipeline, Depends(_pipeline)]
AccountsDep = Annotated[Accounts, Depends(_accounts)]
PreferencesDep = Annotated[UserPreferences, Depends(_preferences)]
