"""Reading Redis replies: the accounts' client answers bytes (decode_responses=False, as the
store's), and hashes come back as dicts of bytes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["text", "text_hash"]


def text(value: Any) -> str | None:
    """A reply as a str (None stays None)."""
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def text_hash(value: Mapping[Any, Any] | None) -> dict[str, str]:
    """An HGETALL reply as str -> str (empty if the hash does not exist)."""
    return {str(text(k)): str(text(v)) for k, v in (value or {}).items()}
