"""Workspaces and their members: the unit of isolation, and who may do what in each.

A membership is kept twice, in the workspace's member hash and in the user's workspace hash
(for `/api/me` and for deleting a user), always written in one transaction. The last owner of
a workspace cannot be removed or demoted: someone must be able to manage it.
"""

from __future__ import annotations

import time

from ragis.accounts.codec import text, text_hash
from ragis.accounts.layout import AuthKeys
from ragis.accounts.models import Member, Membership, Workspace
from ragis.accounts.names import check_workspace
from ragis.contract import WorkspaceRole
from ragis.db.client import RedisClient
from ragis.db.failures import speaks_redis
from ragis.errors import Conflict, InvalidInput, NotFound

__all__ = ["Workspaces"]

# KEYS: ws, workspaces, members(ws), user_ws(owner), user(name)
# ARGV: name, owner, created.  Reply: 0 made, 1 taken by a workspace, 2 taken by a user.
_CREATE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 1 end
if redis.call('EXISTS', KEYS[5]) == 1 then return 2 end
redis.call('HSET', KEYS[1], 'created', ARGV[3], 'personal', '')
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
redis.call('HSET', KEYS[3], ARGV[2], 'owner')
redis.call('HSET', KEYS[4], ARGV[1], 'owner')
return 0
"""

# KEYS: ws, members(ws), user_ws(user), user(user)
# ARGV: user, workspace, role ('' removes).
# Reply: 0 done, 1 no workspace, 2 no user, 3 would leave no owner, 4 not a member.
_SET_MEMBER = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 1 end
local current = redis.call('HGET', KEYS[2], ARGV[1])
if ARGV[3] == '' and not current then return 4 end
if ARGV[3] ~= '' and redis.call('EXISTS', KEYS[4]) == 0 then return 2 end
if current == 'owner' and ARGV[3] ~= 'owner' then
  local owners = 0
  local all = redis.call('HVALS', KEYS[2])
  for i = 1, #all do if all[i] == 'owner' then owners = owners + 1 end end
  if owners <= 1 then return 3 end
end
if ARGV[3] == '' then
  redis.call('HDEL', KEYS[2], ARGV[1])
  redis.call('HDEL', KEYS[3], ARGV[2])
else
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
  redis.call('HSET', KEYS[3], ARGV[2], ARGV[3])
end
return 0
"""


@speaks_redis
class Workspaces:
    def __init__(self, redis: RedisClient, keys: AuthKeys) -> None:
        self._redis = redis
        self._keys = keys

    async def create(self, name: str, owner: str) -> Workspace:
        """A shared workspace owned by `owner`; `Conflict` if a workspace or user has the name."""
        check_workspace(name)
        k = self._keys
        created = time.time()
        keys = (k.workspace(name), k.workspaces, k.members(name), k.user_workspaces(owner),
                k.user(name))  # fmt: skip
        args = (name, owner, repr(created))
        reply = int(await self._redis.execute_command("EVAL", _CREATE, len(keys), *keys, *args))
        if reply == 1:
            raise Conflict(f"There is already a workspace {name!r}.")
        if reply == 2:
            raise Conflict(f"The name {name!r} is taken by a user: choose another.")
        return Workspace(name, created, None)

    async def get(self, name: str) -> Workspace | None:
        fields = text_hash(await self._redis.hgetall(self._keys.workspace(name)))
        return _workspace(name, fields) if fields else None

    async def require(self, name: str) -> Workspace:
        workspace = await self.get(name)
        if workspace is None:
            raise NotFound(f"There is no workspace {name!r}.")
        return workspace

    async def all(self) -> list[Workspace]:
        """Every workspace, by name."""
        names = [str(text(n)) for n in await self._redis.zrange(self._keys.workspaces, 0, -1)]
        async with self._redis.pipeline(transaction=False) as pipe:
            for name in names:
                pipe.hgetall(self._keys.workspace(name))
            replies = await pipe.execute()
        found = [_workspace(n, text_hash(r)) for n, r in zip(names, replies, strict=True) if r]
        return sorted(found, key=lambda w: w.name)

    async def memberships(self, user: str) -> list[Membership]:
        """The workspaces `user` is a member of, with the role there, by name."""
        roles = text_hash(await self._redis.hgetall(self._keys.user_workspaces(user)))
        return sorted(
            (Membership(ws, WorkspaceRole(role), ws == user) for ws, role in roles.items()),
            key=lambda m: m.workspace,
        )

    async def role_of(self, user: str, workspace: str) -> WorkspaceRole | None:
        value = text(await self._redis.hget(self._keys.members(workspace), user))
        return None if value is None else WorkspaceRole(value)

    async def members(self, workspace: str) -> list[Member]:
        await self.require(workspace)
        roles = text_hash(await self._redis.hgetall(self._keys.members(workspace)))
        return sorted((Member(u, WorkspaceRole(r)) for u, r in roles.items()),
                      key=lambda m: m.username)  # fmt: skip

    async def set_member(self, workspace: str, user: str, role: WorkspaceRole | str) -> Member:
        """Add `user` to `workspace` with `role`, or change their role (upsert)."""
        try:
            role = WorkspaceRole(role)
        except ValueError:
            raise InvalidInput(
                f"Invalid role {str(role)[:20]!r}: use owner, editor or viewer."
            ) from None
        await self._change(workspace, user, role.value)
        return Member(user, role)

    async def remove_member(self, workspace: str, user: str) -> None:
        await self._change(workspace, user, "")

    async def _change(self, workspace: str, user: str, role: str) -> None:
        k = self._keys
        keys = (k.workspace(workspace), k.members(workspace), k.user_workspaces(user), k.user(user))
        args = (user, workspace, role)
        reply = int(await self._redis.execute_command("EVAL", _SET_MEMBER, len(keys), *keys, *args))
        if reply == 1:
            raise NotFound(f"There is no workspace {workspace!r}.")
        if reply == 2:
            raise NotFound(f"There is no user {user!r}.")
        if reply == 3:
            raise Conflict(
                f"{user!r} is the last owner of {workspace!r}: make someone else owner first."
            )
        if reply == 4:
            raise NotFound(f"{user!r} is not a member of {workspace!r}.")


def _workspace(name: str, fields: dict[str, str]) -> Workspace:
    return Workspace(name, float(fields.get("created", 0)), fields.get("personal") or None)
