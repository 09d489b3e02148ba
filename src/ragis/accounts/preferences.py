"""A user's preferences for the web UI (passages per answer, model, answer length...), one
small JSON string per user.

The accounts keep them, not a workspace: they follow the user into every workspace, and an API
key reads and writes its user's. What the JSON holds is the gateway's to check (its schema);
here it is only text with a size limit, so that no caller can grow a key without bound. The
key goes with its user (`Users.delete`).
"""

from __future__ import annotations

from ragis.accounts.codec import text
from ragis.accounts.layout import AuthKeys
from ragis.db.client import RedisClient
from ragis.db.failures import speaks_redis
from ragis.errors import TooLarge

__all__ = ["MAX_PREFERENCES_BYTES", "UserPreferences"]

MAX_PREFERENCES_BYTES = 4096


@speaks_redis
class UserPreferences:
    def __init__(self, redis: RedisClient, keys: AuthKeys) -> None:
        self._redis = redis
        self._keys = keys

    async def get(self, user: str) -> str | None:
        """The user's stored JSON, or None if they never saved any."""
        return text(await self._redis.get(self._keys.user_preferences(user)))

    async def put(self, user: str, document: str) -> None:
        """Replace the user's JSON (`TooLarge` over `MAX_PREFERENCES_BYTES`)."""
        data = document.encode("utf-8")
        if len(data) > MAX_PREFERENCES_BYTES:
            raise TooLarge(
                f"Preferences are at most {MAX_PREFERENCES_BYTES} bytes of JSON; these are "
                f"{len(data)}."
            )
        await self._redis.set(self._keys.user_preferences(user), data)

    async def delete(self, user: str) -> None:
        await self._redis.delete(self._keys.user_preferences(user))
