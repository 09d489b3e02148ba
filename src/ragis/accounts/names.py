"""Checking the names of users and workspaces, with sentences a person can act on."""

from __future__ import annotations

import re

from ragis.contract import DEFAULT_WORKSPACE, LOCAL_USER, USERNAME_PATTERN, WORKSPACE_PATTERN
from ragis.errors import InvalidInput

__all__ = ["RESERVED_NAMES", "check_username", "check_workspace"]

_USERNAME = re.compile(USERNAME_PATTERN)
_WORKSPACE = re.compile(WORKSPACE_PATTERN)

#: Not usernames: `default` is the shared workspace that data from before workspaces lives in,
#: and `local` is who acts while RAGIS_AUTH is off (the owner of sessions made then).
RESERVED_NAMES = frozenset({DEFAULT_WORKSPACE, LOCAL_USER})


def check_username(name: str) -> str:
    if not _USERNAME.fullmatch(name):
        raise InvalidInput(
            f"Invalid username {name[:40]!r}: use 1-32 lower-case letters, digits, '_', '.' or "
            "'-', starting with a letter or digit."
        )
    if name in RESERVED_NAMES:
        raise InvalidInput(f"The username {name!r} is reserved by ragis: choose another.")
    return name


def check_workspace(name: str) -> str:
    if not _WORKSPACE.fullmatch(name):
        raise InvalidInput(
            f"Invalid workspace name {name[:80]!r}: use 1-64 letters, digits, '_', '.' or '-', "
            "starting with a letter or digit."
        )
    return name
