"""Resolving a request's credential (an API key or a sign-in cookie) into a `Principal`, in
one Redis round trip (a script): the credential's record, the user's role and membership of the
workspace the request works in. Nothing is cached, so a revoked key, an ended session or a
deleted user fails on the very next request.
"""

from __future__ import annotations

import time

from ragis.accounts.apikeys import digest, looks_like_key
from ragis.accounts.codec import text
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


# One round trip per request: the credential's record, its user's role and their membership of
# the workspace the request works in (named, else the key's, else the user's personal one), and
# `last_used` of a key written at most every ARGV[4] seconds. Every key it reads sits under the
# one hash tag {auth}, so on a cluster they all live on the node that runs it.
#   KEYS[1] the credential's record   ARGV[1] "<prefix>:{auth}"   ARGV[2] the named workspace or ""
#   ARGV[3] now                        ARGV[4] the last_used step (0: a sign-in, never written)
_RESOLVE = """
local rec = redis.call('HMGET', KEYS[1], 'user', 'id', 'workspace', 'last_used')
local user = rec[1]
if not user then return false end
local role = redis.call('HGET', ARGV[1] .. ':user:' .. user, 'role')
if not role then return false end
local key_ws = rec[3] or ''
local ws = ARGV[2]
if ws == '' then ws = key_ws end
if ws == '' then ws = user end
local ws_role = redis.call('HGET', ARGV[1] .. ':ws:' .. ws .. ':members', user)
local step = tonumber(ARGV[4])
if step > 0 and tonumber(ARGV[3]) - (tonumber(rec[4]) or 0) >= step then
  redis.call('HSET', KEYS[1], 'last_used', ARGV[3])
end
return {user, role, ws, ws_role, rec[2], key_ws}
"""


@speaks_redis
class Credentials:
    def __init__(self, redis: RedisClient, keys: AuthKeys) -> None:
        self._redis = redis
        self._keys = keys
        # EVALSHA, and EVAL once where the server does not know the script yet.
        self._resolve = redis.register_script(_RESOLVE)

    async def by_key(self, secret: str, workspace: str | None) -> Principal:
        """The owner of an API key; `workspace` is the one the request names (None: the key's,
        else the user's personal one). `Unauthenticated` for an unknown or revoked key."""
        refused = Unauthenticated(
            "This API key is not valid: it was revoked, or it is not a ragis key (rgs_...)."
        )
        if not looks_like_key(secret):
            raise refused
        principal = await self._principal(self._keys.key(digest(secret)), workspace, LAST_USED_STEP)
        if principal is None:
            raise refused
        return principal

    async def by_login(self, token: str, workspace: str | None) -> Principal:
        """The user of a sign-in cookie. `Unauthenticated` for an ended or unknown session."""
        refused = Unauthenticated("Your sign-in has ended: sign in again.")
        if not looks_like_login(token):
            raise refused
        principal = await self._principal(self._keys.login(login_digest(token)), workspace, 0.0)
        if principal is None:
            raise refused
        return principal

    async def _principal(self, record: str, workspace: str | None, step: float) -> Principal | None:
        """None for a record that does not exist, or whose user was deleted (their credentials
        are deleted with them; this covers a request that raced the deletion)."""
        reply = await self._resolve(
            keys=[record], args=[self._keys.base, workspace or "", repr(time.time()), repr(step)]
        )
        if not reply:
            return None
        user, role, named, workspace_role, key_id, key_workspace = (text(v) for v in reply)
        if user is None or role is None or named is None:  # not from this script
            return None
        return Principal(
            user=user,
            role=Role(role),
            key_id=key_id,
            key_workspace=key_workspace or None,
            workspace=named,
            workspace_role=None if workspace_role is None else WorkspaceRole(workspace_role),
        )
