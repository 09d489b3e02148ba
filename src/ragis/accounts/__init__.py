"""Accounts of ragis, in Redis: users, workspaces and members, API keys, sign-in sessions,
failed sign-in lockout and the audit trail.

    Accounts            the facade over one Redis client and key prefix (`facade`)
    open_accounts       an `Accounts` over a new client, from settings (for the CLI)
    ensure_first_admin  the first admin from RAGIS_ADMIN_USER / RAGIS_ADMIN_PASSWORD

Each part is one module: `users`, `workspaces`, `apikeys`, `logins` (sign-in sessions),
`credentials` (a key or a cookie resolved per request), `preferences` (the web UI's, per
user), `passwords`, `lockout`, `signin`, `audit`, `bootstrap`; `layout` names every Redis key.
Redis failures leave every part as `RedisUnavailable` (`ragis.db.failures.speaks_redis`).
"""

from ragis.accounts.apikeys import KEY_PREFIX, MAX_KEYS_PER_USER
from ragis.accounts.audit import Action
from ragis.accounts.bootstrap import ensure_first_admin
from ragis.accounts.facade import Accounts, open_accounts
from ragis.accounts.models import (
    ApiKey,
    AuditEvent,
    Member,
    Membership,
    NewKey,
    Principal,
    User,
    Workspace,
)
from ragis.accounts.passwords import MAX_PASSWORD, MIN_PASSWORD
from ragis.accounts.policy import LoginPolicy
from ragis.accounts.signin import InvalidCredentials

__all__ = [
    "KEY_PREFIX",
    "MAX_KEYS_PER_USER",
    "MAX_PASSWORD",
    "MIN_PASSWORD",
    "Accounts",
    "Action",
    "ApiKey",
    "AuditEvent",
    "InvalidCredentials",
    "LoginPolicy",
    "Member",
    "Membership",
    "NewKey",
    "Principal",
    "User",
    "Workspace",
    "ensure_first_admin",
    "open_accounts",
]
