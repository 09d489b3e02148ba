"""Who a request to the RAG service is for: the workspace it works in and the user it acts as.

The gateway authenticates the browser or API client, decides the workspace, and passes both to
the RAG service in two headers next to the internal token (`Authorization: Bearer <token>`).
The RAG service trusts them only because the token proves the gateway sent them; it scopes every
Redis key by the workspace and every chat session by the user.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "DEFAULT_WORKSPACE",
    "LOCAL_USER",
    "USERNAME_PATTERN",
    "USER_HEADER",
    "WORKSPACE_HEADER",
    "WORKSPACE_PATTERN",
    "Caller",
    "Role",
    "WorkspaceRole",
]

WORKSPACE_HEADER = "X-Ragis-Workspace"
USER_HEADER = "X-Ragis-User"

#: Workspace names are collection-like names: they end up inside Redis keys.
WORKSPACE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
#: Usernames: lower case, so that "Alice" and "alice" are one user; every username is also the
#: name of that user's personal workspace, so it is a valid workspace name.
USERNAME_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,31}$"

#: The workspace of the local single user (RAGIS_AUTH off) and where data made before
#: workspaces existed is moved; with auth on, the first admin owns it.
DEFAULT_WORKSPACE = "default"
#: Who a request acts as while RAGIS_AUTH is off.
LOCAL_USER = "local"

_WORKSPACE = re.compile(WORKSPACE_PATTERN)
_USERNAME = re.compile(USERNAME_PATTERN)


class Role(StrEnum):
    """A user's role in the whole ragis."""

    ADMIN = "admin"
    MEMBER = "member"


class WorkspaceRole(StrEnum):
    """A member's role in one workspace; each includes the rights of the ones before it."""

    VIEWER = "viewer"  # may ask, list and read
    EDITOR = "editor"  # may also upload and delete documents and collections
    OWNER = "owner"  # may also manage the workspace's members

    @property
    def rank(self) -> int:
        return _RANK[self]

    def allows(self, needed: WorkspaceRole) -> bool:
        return self.rank >= needed.rank


_RANK = {WorkspaceRole.VIEWER: 0, WorkspaceRole.EDITOR: 1, WorkspaceRole.OWNER: 2}


@dataclass(frozen=True, slots=True)
class Caller:
    """The workspace and user of one request to the RAG service (both already checked)."""

    workspace: str
    user: str

    def __post_init__(self) -> None:
        if not _WORKSPACE.fullmatch(self.workspace):
            raise ValueError(f"invalid workspace name {self.workspace!r}")
        if not _USERNAME.fullmatch(self.user):
            raise ValueError(f"invalid username {self.user!r}")

    def headers(self) -> dict[str, str]:
        return {WORKSPACE_HEADER: self.workspace, USER_HEADER: self.user}
