"""Users: creating one (with its personal workspace), reading, listing and deleting them.

Creating a user is one script, so that a user never exists without their personal workspace
and two requests cannot both take a name. A username is also a workspace name (the personal
workspace), so a name taken by either is refused. The first admin also becomes owner of the
shared workspace `default`, where data made before workspaces existed was moved.
"""

from __future__ import annotations

import time

from ragis.accounts.codec import text, text_hash
from ragis.accounts.layout import AuthKeys
from ragis.accounts.models import User
from ragis.accounts.names import check_username
from ragis.accounts.passwords import Passwords
from ragis.contract import DEFAULT_WORKSPACE, Role
from ragis.db.client import RedisClient
from ragis.db.failures import speaks_redis
from ragis.errors import Conflict, InvalidInput, NotFound

__all__ = ["Users"]

# KEYS: user, users, ws, workspaces, members(ws), user_ws, admins, ws(default), members(default)
# ARGV: name, role, password hash, created, default workspace name
# Reply: 0 made, 1 user taken, 2 workspace taken.
_CREATE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 1 end
if redis.call('EXISTS', KEYS[3]) == 1 then return 2 end
redis.call('HSET', KEYS[1], 'role', ARGV[2], 'password', ARGV[3], 'created', ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
redis.call('HSET', KEYS[3], 'created', ARGV[4], 'personal', ARGV[1])
redis.call('ZADD', KEYS[4], ARGV[4], ARGV[1])
redis.call('HSET', KEYS[5], ARGV[1], 'owner')
redis.call('HSET', KEYS[6], ARGV[1], 'owner')
if ARGV[2] == 'admin' then
  if redis.call('SCARD', KEYS[7]) == 0 then
    if redis.call('EXISTS', KEYS[8]) == 0 then
      redis.call('HSET', KEYS[8], 'created', ARGV[4], 'personal', '')
      redis.call('ZADD', KEYS[4], ARGV[4], ARGV[5])
    end
    redis.call('HSET', KEYS[9], ARGV[1], 'owner')
    redis.call('HSET', KEYS[6], ARGV[5], 'owner')
  end
  redis.call('SADD', KEYS[7], ARGV[1])
end
return 0
"""


@speaks_redis
class Users:
    def __init__(self, redis: RedisClient, keys: AuthKeys, passwords: Passwords) -> None:
        self._redis = redis
        self._keys = keys
        self._passwords = passwords

    async def create(self, name: str, password: str, role: Role | str = Role.MEMBER) -> User:
        """Make a user and their personal workspace `name` (they own it). `Conflict` if the
        name is taken by a user or a workspace; `InvalidInput` for a bad name, role or
        password."""
        check_username(name)
        try:
            role = Role(role)
        except ValueError:
            raise InvalidInput(f"Invalid role {str(role)[:20]!r}: use admin or member.") from None
        hashed = await self._passwords.hash(password)
        created = time.time()
        k = self._keys
        keys = (
            k.user(name),
            k.users,
            k.workspace(name),
            k.workspaces,
            k.members(name),
            k.user_workspaces(name),
            k.admins,
            k.workspace(DEFAULT_WORKSPACE),
            k.members(DEFAULT_WORKSPACE),
        )
        args = (name, role.value, hashed, repr(created), DEFAULT_WORKSPACE)
        reply = int(await self._redis.execute_command("EVAL", _CREATE, len(keys), *keys, *args))
        if reply == 1:
            raise Conflict(f"There is already a user {name!r}.")
        if reply == 2:
            raise Conflict(f"The name {name!r} is taken by a workspace: choose another.")
        return User(name, role, created)

    async def get(self, name: str) -> User | None:
        fields = text_hash(await self._redis.hgetall(self._keys.user(name)))
        return _user(name, fields) if fields else None

    async def require(self, name: str) -> User:
        user = await self.get(name)
        if user is None:
            raise NotFound(f"There is no user {name!r}.")
        return user

    async def password_hash(self, name: str) -> str | None:
        """The stored hash of a user's password; None if there is no such user."""
        value = await self._redis.hget(self._keys.user(name), "password")
        return text(value)

    async def count(self) -> int:
        return int(await self._redis.zcard(self._keys.users))

    async def all(self) -> list[User]:
        names = [str(text(n)) for n in await self._redis.zrange(self._keys.users, 0, -1)]
        async with self._redis.pipeline(transaction=False) as pipe:
            for name in names:
                pipe.hgetall(self._keys.user(name))
            replies = await pipe.execute()
        users = [_user(n, text_hash(r)) for n, r in zip(names, replies, strict=True) if r]
        return sorted(users, key=lambda u: u.name)

    async def delete(self, name: str, *, actor: str) -> User:
        """Remove a user with their API keys, sign-in sessions, preferences, memberships and
        personal workspace record (its data is the RAG service's to delete). `Conflict` for
        oneself and for the last admin; `NotFound` for an unknown user."""
        k = self._keys
        if name == actor:
            raise Conflict("You cannot delete yourself: ask another admin.")
        user = await self.require(name)
        if user.role is Role.ADMIN and int(await self._redis.scard(k.admins)) <= 1:
            raise Conflict(f"{name!r} is the last admin: make another admin first.")
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.smembers(k.user_keys(name))
            pipe.smembers(k.user_logins(name))
            pipe.hgetall(k.user_workspaces(name))
            pipe.hgetall(k.members(name))
            pipe.hget(k.workspace(name), "personal")
            key_ids, logins, memberships, personal_members, personal = await pipe.execute()
        key_ids = [str(text(i)) for i in key_ids]
        async with self._redis.pipeline(transaction=False) as pipe:
            for key_id in key_ids:
                pipe.get(k.key_id(key_id))
            digests = [str(text(d)) for d in await pipe.execute() if d is not None]
        owns_personal = text(personal) == name
        async with self._redis.pipeline(transaction=True) as pipe:
            # Credentials first, in the same transaction: the user's next request fails.
            pipe.delete(
                *(k.key(d) for d in digests),
                *(k.key_id(i) for i in key_ids),
                *(k.login(str(text(d))) for d in logins),
                k.user(name),
                k.user_keys(name),
                k.user_logins(name),
                k.user_workspaces(name),
                k.user_preferences(name),
            )
            pipe.zrem(k.users, name)
            pipe.srem(k.admins, name)
            for workspace in text_hash(memberships):
                pipe.hdel(k.members(workspace), name)
            if owns_personal:
                # Others invited to the personal workspace lose it with its owner.
                for member in text_hash(personal_members):
                    pipe.hdel(k.user_workspaces(member), name)
                pipe.delete(k.workspace(name), k.members(name))
                pipe.zrem(k.workspaces, name)
            await pipe.execute()
        return user


def _user(name: str, fields: dict[str, str]) -> User:
    return User(name, Role(fields.get("role", Role.MEMBER)), float(fields.get("created", 0)))
