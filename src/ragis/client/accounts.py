"""`ragis user add/list/remove` and `ragis key create/list/revoke`: through the gateway's API.

Each function prints what the command shows and returns its exit code; a refusal raises a
`RagisError` whose sentence the CLI prints. Names are checked here before anything is sent, so a
mistyped or hostile argument (a megabyte of it) is one short sentence, not a request.
"""

from __future__ import annotations

import re
import sys
from typing import TextIO

from ragis.client.api import GatewayClient
from ragis.client.table import clean, format_table, format_time
from ragis.contract import USERNAME_PATTERN, Role
from ragis.errors import InvalidInput, NotFound

__all__ = [
    "check_username",
    "key_create",
    "key_list",
    "key_revoke",
    "user_add",
    "user_list",
    "user_remove",
]

_USERNAME = re.compile(USERNAME_PATTERN)
# Key ids are the gateway's own tokens; anything else cannot be one, nor go into a URL path.
_KEY_ID = re.compile(r"^[0-9a-f]{1,64}$")
MAX_KEY_NAME = 64


def check_username(name: str) -> str:
    if not _USERNAME.fullmatch(name):
        raise InvalidInput(
            f"Invalid username {clean(name, 40)!r}: use 1-32 lower-case letters, digits, '_', "
            "'.' or '-', starting with a letter or digit."
        )
    return name


def _check_key_name(name: str) -> str:
    if not 1 <= len(name) <= MAX_KEY_NAME or not name.isprintable() or not name.strip():
        raise InvalidInput(
            f"Invalid key name {clean(name, 40)!r}: use 1-{MAX_KEY_NAME} printable characters "
            "(say where the key is used: 'laptop', 'ci')."
        )
    return name


def _check_key_id(key_id: str) -> str:
    if not _KEY_ID.fullmatch(key_id):
        raise InvalidInput(
            f"Invalid key id {clean(key_id, 40)!r}: use an ID that `ragis key list` shows."
        )
    return key_id


async def user_add(
    client: GatewayClient, name: str, password: str, role: Role, out: TextIO | None = None
) -> int:
    out = out or sys.stdout
    created = await client.create_user(check_username(name), password, role)
    out.write(
        f"User {clean(created.get('username', name))} created ({clean(created.get('role', role))}"
        f"), with a personal workspace of the same name.\n"
    )
    return 0


async def user_list(client: GatewayClient, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    users = await client.users()
    rows = [(u.get("username"), u.get("role"), format_time(u.get("created"))) for u in users]
    for line in format_table(("USERNAME", "ROLE", "CREATED"), rows):
        out.write(line + "\n")
    return 0


async def user_remove(client: GatewayClient, name: str, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    await client.delete_user(check_username(name))
    out.write(
        f"User {name} removed, with their API keys, sign-ins, memberships and personal workspace.\n"
    )
    return 0


async def key_create(
    client: GatewayClient,
    name: str,
    *,
    workspace: str | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """The key alone on stdout (`KEY=$(ragis key create ci)` keeps just it); the rest on stderr."""
    out, err = out or sys.stdout, err or sys.stderr
    try:
        created = await client.create_key(_check_key_name(name), workspace=workspace)
    except NotFound:
        if workspace is None:
            raise
        raise NotFound(
            f"There is no workspace {workspace!r} that you are a member of: a key can only be "
            "made for one of your own workspaces (ragis key create NAME without --workspace "
            "works in all of them)."
        ) from None
    key = str(created.get("key", ""))
    where = f"workspace {clean(created.get('workspace'))}" if created.get("workspace") else None
    err.write(
        f"API key {clean(created.get('name', name))!r} created (id {clean(created.get('id'))}"
        f"{', only for ' + where if where else ''}). It is shown this once only; keep it "
        "secret:\n"
    )
    out.write(key + "\n")
    out.flush()
    err.write(f"Use it with:  export RAGIS_API_KEY={key}\n")
    return 0


async def key_list(client: GatewayClient, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    keys = await client.keys()
    rows = [
        (
            k.get("id"),
            k.get("name"),
            k.get("workspace") or "(any)",
            k.get("prefix"),
            format_time(k.get("created")),
            format_time(k.get("last_used")),
        )
        for k in keys
    ]
    headers = ("ID", "NAME", "WORKSPACE", "PREFIX", "CREATED", "LAST USED")
    for line in format_table(headers, rows):
        out.write(line + "\n")
    return 0


async def key_revoke(client: GatewayClient, key_id: str, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    await client.revoke_key(_check_key_id(key_id))
    out.write(f"API key {key_id} revoked: it is refused from its next request on.\n")
    return 0
