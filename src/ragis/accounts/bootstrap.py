"""The first admin: made from RAGIS_ADMIN_USER and RAGIS_ADMIN_PASSWORD when ragis starts with
no user at all (a compose deployment), never over existing users."""

from __future__ import annotations

import logging

from ragis.accounts.audit import Action
from ragis.accounts.facade import Accounts
from ragis.contract import Role
from ragis.errors import Conflict, InvalidInput

__all__ = ["BOOTSTRAP_ACTOR", "ensure_first_admin"]

log = logging.getLogger("ragis.accounts")

#: Who the audit says made the first admin.
BOOTSTRAP_ACTOR = "ragis"


async def ensure_first_admin(accounts: Accounts, name: str, password: str) -> bool:
    """Make `name` an admin if there is no user yet; True if it was made.

    `InvalidInput` (a sentence naming the variable) for a bad name or password."""
    if await accounts.users.count() > 0:
        return False
    try:
        await accounts.users.create(name, password, Role.ADMIN)
    except Conflict:
        return False  # another gateway starting at the same moment made it
    except InvalidInput as exc:
        raise InvalidInput(f"RAGIS_ADMIN_USER / RAGIS_ADMIN_PASSWORD: {exc.message}") from None
    await accounts.audit.record(Action.USER_CREATED, actor=BOOTSTRAP_ACTOR, target=name)
    log.info("Made the first admin %r (RAGIS_ADMIN_USER).", name)
    return True
