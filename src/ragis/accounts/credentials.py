"""Resolving a request's credential (an API key or a sign-in cookie) into a `Principal`, in
two Redis round trips: the credential's record, then the user's role and membership of the
workspace the request works in. Nothing is cached, so a revoked key, an ended session or a
deleted user fails on the very next request.
"""

from __future__ import annotations

import time

from ragis.accounts.apikeys import digest, looks_like_key
from ragis.accounts.codec import text, text_hash
from ragis.accounts.layout import AuthKeys
from ragis.accounts.logins import login_digest, looks_like_login
from ragis.accounts.models import Principal
from ragis.contract import Role, WorkspaceRole
from ragis.db.client import RedisClient
from ragis.db.failures import speaks_redis
from ragis.errors import Unauthenticated

__all__ = ["Credentials"]

# `last_used` of a key is written at most this often (seconds): it is for people, and a write
# per request would double the cost of a key.
LAST_USED_STEP = 60.0


@speaks_redis
class Credentials:
    def __init__(self, redis: RedisClient, keys: AuthKeys) -> None:
        self._redis = redis
        self._keys = keys

    async def by_key(self, secret: str, workspace: str | None) -> Principal:
        """The owner of an API key; `workspace` is the one the request names (None: the key's,
        else the user's personal one). `Unauthenticated` for an unknown or revoked key."""
        refused = Unauthenticated(
            "This API key is not valid: it was revoked, or it is not a ragis key (rgs_...)."
        )
        if not looks_like_key(secret):
            raise refused
        hashed = digest(secret)
        fields = text_hash(await self._redis.hgetall(self._keys.key(hashed)))
        user = fields.get("user")
        if not user:
            raise refused
        key_workspace = fields.get("workspace") or None
        last_used = float(fields.get("last_used") or 0)
        touch = self._keys.key(hashed) if time.time() - last_used >= LAST_USED_STEP else None
        principal = await self._principal(
            user, fields.get("id"), key_workspace, workspace or key_workspace or user, touch
        )
        if principal is None:
            raise refused
        return principal

    async def by_login(self, token: str, workspace: str | None) -> Principal:
        """The user of a sign-in cookie. `Unauthenticated` for an ended or unknown session."""
        refused = Unauthenticated("Your sign-in has ended: sign in again.")
        if not looks_like_login(token):
            raise refused
        user = text(await self._redis.hget(self._keys.login(login_digest(token)), "user"))
        if user is None:
            raise refused
        principal = await self._principal(user, None, None, workspace or user, None)
        if principal is None:
            raise refused
        return principal

    async def _principal(
        self,
        user: str,
        key_id: str | None,
        key_workspace: str | None,
        workspace: str,
        touch: str | None,
    ) -> Principal | None:
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hget(self._keys.user(user), "role")
            pipe.hget(self._keys.members(workspace), user)
            if touch is not None:
                pipe.hset(touch, "last_used", repr(time.time()))
            role, workspace_role, *_ = await pipe.execute()
        if role is None:
            # The user was deleted (their credentials are deleted with them; this covers a
            # request that raced the deletion).
            return None
        return Principal(
            user=user,
            role=Role(str(text(role))),
            key_id=key_id,
            key_workspace=key_workspace,
            workspace=workspace,
            workspace_role=None
            if workspace_role is None
            else WorkspaceRole(str(text(workspace_role))),
        )
