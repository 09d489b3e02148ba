"""Where the accounts live in Redis: every key name, spelled here only.

All of them share the hash tag `{auth}` (`<prefix>:{auth}:...`), so they sit in one slot of a
Redis Cluster and a transaction or a script may touch any of them together.

    users                       sorted set: username -> created
    user:<name>                 hash: role, password (the Argon2id hash), created
    user:<name>:ws              hash: workspace -> role (the user's memberships, for /api/me)
    user:<name>:keys            set: ids of the user's API keys
    user:<name>:logins          set: digests of the user's sign-in sessions
    user:<name>:prefs           string: the user's preferences for the web UI (JSON, <= 4 KiB)
    admins                      set: usernames of role admin (the last one cannot go)
    workspaces                  sorted set: workspace -> created
    ws:<name>                   hash: created, personal (its user's name, or "" if shared)
    ws:<name>:members           hash: username -> role
    key:<sha256 of the key>     hash: id, user, name, workspace, created, prefix, last_used
    keyid:<id>                  string: the key's digest (to list and revoke by id)
    login:<sha256 of cookie>    hash: user, created; expires after RAGIS_LOGIN_TTL
    fail:user:<name>            failed sign-ins of a username (expires: RAGIS_LOGIN_LOCKOUT)
    fail:addr:<address>         failed sign-ins from a client address (likewise)
    audit                       stream: who did what, when (bounded, newest last)

Secrets are never stored: an API key and a session cookie are found by their SHA-256 (both are
32 random bytes, so a plain hash is enough), a password by its Argon2id hash.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["AuthKeys"]


@dataclass(frozen=True, slots=True)
class AuthKeys:
    prefix: str

    @property
    def base(self) -> str:
        return f"{self.prefix}:{{auth}}"

    @property
    def users(self) -> str:
        return f"{self.base}:users"

    def user(self, name: str) -> str:
        return f"{self.base}:user:{name}"

    def user_workspaces(self, name: str) -> str:
        return f"{self.base}:user:{name}:ws"

    def user_keys(self, name: str) -> str:
        return f"{self.base}:user:{name}:keys"

    def user_logins(self, name: str) -> str:
        return f"{self.base}:user:{name}:logins"

    def user_preferences(self, name: str) -> str:
        return f"{self.base}:user:{name}:prefs"

    @property
    def admins(self) -> str:
        return f"{self.base}:admins"

    @property
    def workspaces(self) -> str:
        return f"{self.base}:workspaces"

    def workspace(self, name: str) -> str:
        return f"{self.base}:ws:{name}"

    def members(self, workspace: str) -> str:
        return f"{self.base}:ws:{workspace}:members"

    def key(self, digest: str) -> str:
        return f"{self.base}:key:{digest}"

    def key_id(self, key_id: str) -> str:
        return f"{self.base}:keyid:{key_id}"

    def login(self, digest: str) -> str:
        return f"{self.base}:login:{digest}"

    def failures(self, kind: str, who: str) -> str:
        return f"{self.base}:fail:{kind}:{who}"

    @property
    def audit(self) -> str:
        return f"{self.base}:audit"
