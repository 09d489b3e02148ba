"""The format of ragis's data in Redis: one number, kept in `<prefix>:format`.

    1  before workspaces (implicit: no format key, and keys of the old layout exist)
    2  every data key scoped by its workspace (store/keys.py, docs/redis-layout.md)

A ragis reads it before it touches any data: one that finds a number greater than it knows
refuses to start (`DataFormatTooNew`) rather than misread or damage what a newer ragis wrote.
The RAG service migrates older data before it serves (ragis.store.migrations) and then writes
the current number. The gateway may read it too (it imports ragis.db, never ragis.store).
"""

from __future__ import annotations

from redis.exceptions import RedisError

from ragis.db.client import RedisClient, redact
from ragis.errors import ConfigError, DataFormatTooNew, RedisUnavailable

__all__ = [
    "CURRENT_FORMAT",
    "LEGACY_FORMAT",
    "check_format",
    "format_key",
    "parse_format",
    "read_format",
    "write_format",
]

#: The format this ragis writes and understands, and every one before it.
CURRENT_FORMAT = 2
#: The format of data written before the format key existed.
LEGACY_FORMAT = 1


def format_key(prefix: str) -> str:
    """String: the format number of the data under `prefix`."""
    return f"{prefix}:format"


async def read_format(redis: RedisClient, prefix: str) -> int | None:
    """The recorded format number; None when there is none (no data yet, or format 1)."""
    try:
        raw = await redis.get(format_key(prefix))
    except RedisError as exc:
        raise RedisUnavailable(f"Redis did not answer the data format question: {exc}") from exc
    return parse_format(raw, prefix)


def parse_format(raw: bytes | str | None, prefix: str) -> int | None:
    """The format number in the value of `format_key(prefix)`; None when there is none."""
    if raw is None:
        return None
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    try:
        return int(text)
    except ValueError:
        raise ConfigError(
            f"The key {format_key(prefix)} holds {text[:40]!r}, not a ragis data format number: "
            "is RAGIS_KEY_PREFIX shared with another program?"
        ) from None


def check_format(found: int | None, url: str) -> None:
    """Refuse data of a format newer than this ragis knows, in a sentence naming both."""
    if found is not None and found > CURRENT_FORMAT:
        raise DataFormatTooNew(
            f"Redis at {redact(url)} holds ragis data of format {found}; this ragis knows up to "
            f"{CURRENT_FORMAT}: upgrade ragis (or point REDIS_URL / RAGIS_KEY_PREFIX elsewhere)."
        )


async def write_format(redis: RedisClient, prefix: str, version: int = CURRENT_FORMAT) -> None:
    try:
        await redis.set(format_key(prefix), str(version))
    except RedisError as exc:
        raise RedisUnavailable(f"Redis did not record the data format: {exc}") from exc
