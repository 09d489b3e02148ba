"""`ragis admin create NAME`: the first admin (or another one), written straight into Redis.

It needs no gateway and no API key (there is no admin yet to make one), only Redis: `REDIS_URL`
when set, else the embedded Redis of a running `ragis up` over `RAGIS_DATA_DIR`, whose port is in
the data dir's lock file and whose password is RAGIS_REDIS_PASSWORD, else the one `ragis up`
generated and keeps there.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

from ragis.client.accounts import check_username
from ragis.contract import Role
from ragis.db.embedded import LOCK_NAME, PASSWORD_NAME
from ragis.errors import ConfigError
from ragis.settings import RedisSettings

__all__ = ["CLI_ACTOR", "create_admin", "redis_of"]

#: Who the audit trail says made an admin with `ragis admin create`.
CLI_ACTOR = "cli"


def _embedded_password(data_dir: Path) -> str | None:
    """The embedded Redis's password as `ragis up` keeps it in the data dir, if it has one."""
    path = data_dir / PASSWORD_NAME
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(
            f"Cannot read the embedded Redis's password in {path} ({exc.strerror}): run this as "
            "the user that runs `ragis up`, or set REDIS_URL."
        ) from None


def redis_of(settings: RedisSettings, embedded_password: str | None = None) -> RedisSettings:
    """The settings with `redis_url` filled in: REDIS_URL, else the running `ragis up`'s
    (`embedded_password`: RAGIS_REDIS_PASSWORD, which `ragis up` gives its Redis when set)."""
    if settings.redis_url:
        return settings
    data_dir = settings.data_dir.resolve()
    lock = data_dir / LOCK_NAME
    try:
        port = int(json.loads(lock.read_text(encoding="utf-8"))["port"])
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        # `ragis up` empties the lock file when it stops: nothing runs over this data dir.
        raise ConfigError(
            f"No Redis to write to: REDIS_URL is unset and no `ragis up` runs over the data dir "
            f"{data_dir} (RAGIS_DATA_DIR). Start `ragis up` first, or set REDIS_URL."
        ) from None
    except OSError as exc:
        raise ConfigError(f"Cannot read {lock} ({exc.strerror}).") from None
    password = embedded_password or _embedded_password(data_dir)
    auth = f":{quote(password, safe='')}@" if password else ""
    return settings.model_copy(update={"redis_url": f"redis://{auth}127.0.0.1:{port}"})


async def create_admin(settings: RedisSettings, name: str, password: str) -> None:
    """Create the admin `name` in the Redis of `settings` (Conflict if the name is taken)."""
    from ragis.accounts import Action, open_accounts

    async with open_accounts(settings) as accounts:
        await accounts.users.create(check_username(name), password, Role.ADMIN)
        # Whoever can write to Redis may run this, so the audit cannot name a user: "cli".
        await accounts.audit.record(Action.USER_CREATED, actor=CLI_ACTOR, target=name)
