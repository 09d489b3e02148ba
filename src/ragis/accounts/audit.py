"""The audit trail: a Redis stream of who did what, when, from where, and whether it worked.

Bounded (`XADD MAXLEN ~`): the oldest entries go once it holds about `MAX_EVENTS`. Read newest
first, a page at a time (`before` is the id of the last entry of the previous page).
"""

from __future__ import annotations

import re
import time
from enum import StrEnum

from ragis.accounts.codec import text, text_hash
from ragis.accounts.layout import AuthKeys
from ragis.accounts.models import AuditEvent
from ragis.db.client import RedisClient
from ragis.db.failures import speaks_redis
from ragis.errors import InvalidInput

__all__ = ["MAX_EVENTS", "STREAM_ID_PATTERN", "Action", "Audit"]

MAX_EVENTS = 100_000
STREAM_ID_PATTERN = r"^[0-9]{1,20}-[0-9]{1,20}$"
_STREAM_ID = re.compile(STREAM_ID_PATTERN)
_MAX_FIELD = 200  # what a client sent (a username tried at sign-in) is cut to this


class Action(StrEnum):
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOGOUT = "logout"
    KEY_CREATED = "key_created"
    KEY_REVOKED = "key_revoked"
    USER_CREATED = "user_created"
    USER_DELETED = "user_deleted"
    WORKSPACE_CREATED = "workspace_created"
    MEMBER_SET = "member_set"
    MEMBER_REMOVED = "member_removed"
    DOCUMENT_DELETED = "document_deleted"
    DOCUMENT_RENAMED = "document_renamed"
    DOCUMENT_TAGS_CHANGED = "document_tags_changed"
    COLLECTION_DELETED = "collection_deleted"
    COLLECTION_UPDATED = "collection_updated"


@speaks_redis
class Audit:
    def __init__(self, redis: RedisClient, keys: AuthKeys) -> None:
        self._redis = redis
        self._keys = keys

    async def record(
        self,
        action: Action,
        *,
        actor: str,
        target: str = "",
        workspace: str | None = None,
        address: str | None = None,
        ok: bool = True,
    ) -> str:
        """Append one event; returns its id."""
        fields = {
            "time": repr(time.time()),
            "actor": actor[:_MAX_FIELD],
            "action": action.value,
            "target": target[:_MAX_FIELD],
            "workspace": workspace or "",
            "address": (address or "")[:_MAX_FIELD],
            "ok": "1" if ok else "0",
        }
        event_id = await self._redis.xadd(
            self._keys.audit,
            fields,  # type: ignore[arg-type]
            maxlen=MAX_EVENTS,
            approximate=True,
        )
        return str(text(event_id))

    async def recent(self, limit: int = 100, before: str | None = None) -> list[AuditEvent]:
        """Up to `limit` events, newest first, older than the event `before` if given."""
        if before is not None and not _STREAM_ID.fullmatch(before):
            raise InvalidInput(
                f"Invalid `before` {before[:40]!r}: give the id of an audit event (like "
                "1700000000000-0)."
            )
        newest = "+" if before is None else f"({before}"
        entries = await self._redis.xrevrange(self._keys.audit, newest, "-", count=limit)
        return [_event(str(text(i)), text_hash(f)) for i, f in entries or []]


def _event(event_id: str, fields: dict[str, str]) -> AuditEvent:
    return AuditEvent(
        id=event_id,
        time=float(fields.get("time", 0)),
        actor=fields.get("actor", ""),
        action=fields.get("action", ""),
        target=fields.get("target", ""),
        workspace=fields.get("workspace") or None,
        address=fields.get("address") or None,
        ok=fields.get("ok") == "1",
    )
