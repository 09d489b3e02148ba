"""`GET/PUT /api/preferences`: the caller's preferences for the web UI (the user's, in every
workspace; an API key reads and writes its user's). While sign-in is off they are the local
user's."""

from __future__ import annotations

from fastapi import APIRouter, Request

from ragis.accounts.preferences import MAX_PREFERENCES_BYTES
from ragis.errors import TooLarge
from ragis.gateway import preferences
from ragis.gateway.deps import PreferencesDep
from ragis.gateway.identity import IdentityDep
from ragis.gateway.preferences import Preferences
from ragis.gateway.schemas import ErrorPublic

router = APIRouter(prefix="/api/preferences", tags=["preferences"])


@router.get(
    "",
    response_model=Preferences,
    responses={503: {"model": ErrorPublic}},
    summary="Your preferences (all null and false until you save some)",
)
async def get_preferences(store: PreferencesDep, identity: IdentityDep) -> Preferences:
    return await preferences.load(store, identity.user)


@router.put(
    "",
    response_model=Preferences,
    responses={
        413: {"model": ErrorPublic, "description": f"A body over {MAX_PREFERENCES_BYTES} bytes"},
        422: {"model": ErrorPublic},
        503: {"model": ErrorPublic},
    },
    summary="Replace your preferences (the whole set: what is left out goes back to its default)",
)
async def put_preferences(
    body: Preferences, request: Request, store: PreferencesDep, identity: IdentityDep
) -> Preferences:
    # The schema bounds every field; the body too, so that padding cannot make it large.
    size = len(await request.body())
    if size > MAX_PREFERENCES_BYTES:
        raise TooLarge(f"Preferences are at most {MAX_PREFERENCES_BYTES} bytes; this is {size}.")
    return await preferences.save(store, identity.user, body)
