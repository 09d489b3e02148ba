"""`ragis restore FILE`: a backup of `ragis backup` brought back into an empty Redis.

The target is a Redis (REDIS_URL, or `--redis-url`) that holds no key under the prefix, or a
data dir no ragis runs on (`--data-dir`): its embedded Redis is started on a free port with
ragis's usual flags, filled, its AOF rewritten, and stopped, so the next `ragis up` over that dir
finds the data.

Before anything is written the whole file is read through and checked (ragis.ops.snapshot: the
magic, the backup format, the checksum of every byte), the snapshot's data format must not be
newer than this ragis's, and every key must lie under the prefix (a forged file must not write
outside it). Keys are restored with `RESTORE ... ABSTTL` in pipelined batches, so a key keeps
the expiry it had; a key that has expired since is skipped. Data of an older format is restored
as it is: the RAG service migrates it when it starts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
from redis.exceptions import RedisError, ResponseError

from ragis.db.client import redact
from ragis.db.embedded import EmbeddedRedis
from ragis.db.format import CURRENT_FORMAT
from ragis.errors import ConfigError, DataFormatTooNew, RagisError, RedisUnavailable
from ragis.ops.backup import open_redis
from ragis.ops.snapshot import BadSnapshot, SnapshotReader

__all__ = ["RestoreRefused", "RestoreSummary", "check_snapshot", "restore", "restore_command"]

#: RESTOREs per round trip, and the payload bytes after which a batch is sent anyway.
BATCH = 500
BATCH_BYTES = 32 * 1024 * 1024
#: How long to wait for the AOF rewrite of a restored data dir.
AOF_TIMEOUT = 600.0

Progress = Callable[[str], None]


class RestoreRefused(RagisError):
    """The target is not empty, or not a place `ragis restore` may write to."""


@dataclass
class RestoreSummary:
    keys: int = 0
    expired: int = 0
    payload_bytes: int = 0
    seconds: float = 0.0
    target: str = ""

    def line(self) -> str:
        skipped = f", {self.expired} expired keys skipped" if self.expired else ""
        return (
            f"restored {self.keys} keys ({self.payload_bytes / 1e6:.1f} MB) into {self.target} "
            f"in {self.seconds:.1f} s{skipped}"
        )


def check_snapshot(path: Path, prefix: str) -> dict[str, object]:
    """Read `path` through and refuse it unless it can be restored under `prefix`; returns its
    header."""
    with SnapshotReader(path) as reader:
        header = reader.header
        found = header.get("data_format")
        if not isinstance(found, int):
            raise BadSnapshot(f"The backup {path} does not say its data format.")
        if found > CURRENT_FORMAT:
            raise DataFormatTooNew(
                f"The backup {path} holds ragis data of format {found} (ragis "
                f"{header.get('ragis_version', '?')}); this ragis knows up to {CURRENT_FORMAT}: "
                "restore it with a ragis at least as new as the one that made it."
            )
        if header.get("key_prefix") != prefix:
            raise RestoreRefused(
                f"The backup {path} holds keys under the prefix {header.get('key_prefix')!r}, "
                f"and RAGIS_KEY_PREFIX is {prefix!r}: set RAGIS_KEY_PREFIX="
                f"{header.get('key_prefix')} to restore it."
            )
        under = f"{prefix}:".encode()
        count = 0
        for record in reader.records():
            if not record.key.startswith(under):
                raise BadSnapshot(
                    f"The backup {path} holds a key outside the prefix {prefix!r}: it is "
                    "forged or damaged, and nothing was restored."
                )
            count += 1
        if count != reader.trailer.keys:
            raise BadSnapshot(f"The backup {path} lacks records its trailer counts.")
    return header


def _count_keys(client: redis.Redis, prefix: str) -> int:
    return sum(1 for _ in client.scan_iter(match=f"{prefix}:*", count=1000))


def _load(
    client: redis.Redis, path: Path, summary: RestoreSummary, progress: Progress | None
) -> None:
    last = time.monotonic()
    pipe = client.pipeline(transaction=False)
    pending = 0
    pending_bytes = 0
    with SnapshotReader(path) as reader:
        for record in reader.records():
            now_ms = int(time.time() * 1000)
            if record.expire_at_ms >= 0 and record.expire_at_ms <= now_ms:
                summary.expired += 1
                continue
            ttl = max(record.expire_at_ms, 0)
            pipe.restore(record.key, ttl, record.payload, absttl=ttl > 0)
            pending += 1
            pending_bytes += len(record.payload)
            summary.keys += 1
            summary.payload_bytes += len(record.payload)
            if pending >= BATCH or pending_bytes >= BATCH_BYTES:
                _send(pipe, path, summary.keys - pending)
                pending = pending_bytes = 0
                if progress is not None and time.monotonic() - last >= 2.0:
                    last = time.monotonic()
                    progress(f"restore: {summary.keys} keys so far ...")
        if pending:
            _send(pipe, path, summary.keys - pending)


def _send(pipe: Any, path: Path, before: int) -> None:
    try:
        pipe.execute()
    except ResponseError as exc:
        raise BadSnapshot(
            f"Redis refused a value of the backup {path} ({exc}): the file is forged, or was "
            f"made by a newer Redis. The keys of earlier batches ({before}) were restored: "
            "delete them before another attempt."
        ) from None


def _rewrite_aof(client: redis.Redis) -> None:
    """Rewrite the AOF (RDB preamble: quick to load) and wait until it is done and ok. A rewrite
    Redis began by itself (the AOF grew during the restore) is waited for, then ours runs, so
    that it covers every key."""
    deadline = time.monotonic() + AOF_TIMEOUT
    started = False
    while True:
        info = client.info("persistence")
        busy = info.get("aof_rewrite_in_progress") or info.get("aof_rewrite_scheduled")
        if not busy and started:
            if info.get("aof_last_bgrewrite_status") != "ok":
                raise RedisUnavailable("The restored Redis failed to rewrite its AOF: see its log.")
            return
        if not busy:
            try:
                client.bgrewriteaof()
                started = True
            except ResponseError as exc:
                if "in progress" not in str(exc):
                    raise
        if time.monotonic() > deadline:
            raise RedisUnavailable("The restored Redis did not finish rewriting its AOF.")
        time.sleep(0.05)


def _into(client: redis.Redis, path: Path, prefix: str, summary: RestoreSummary,
          progress: Progress | None) -> None:  # fmt: skip
    try:
        # VCARD of a key that does not exist: 0 on Redis 8, "unknown command" on Redis 7.
        client.execute_command("VCARD", f"{prefix}:vector-sets-probe")
    except ResponseError as exc:
        if "unknown command" not in str(exc).lower():
            raise
        raise RestoreRefused(
            f"{summary.target} has no Vector Sets (VADD is unknown): restore into Redis 8."
        ) from None
    existing = _count_keys(client, prefix)
    if existing:
        raise RestoreRefused(
            f"{summary.target} already holds {existing} keys under the prefix {prefix!r}: "
            "restore only into an empty Redis or a fresh data dir, so that nothing is mixed or "
            "overwritten (delete those keys first, or choose another target)."
        )
    _load(client, path, summary, progress)


def restore(
    path: Path,
    prefix: str,
    *,
    url: str | None = None,
    data_dir: Path | None = None,
    password: str | None = None,
    progress: Progress | None = None,
) -> RestoreSummary:
    """Restore the backup at `path` into the Redis at `url` or the data dir `data_dir` (whose
    embedded Redis requires `password`, else the dir's own)."""
    if (url is None) == (data_dir is None):
        raise ConfigError("Restore into a Redis (REDIS_URL / --redis-url) or a --data-dir.")
    started = time.monotonic()
    path = Path(path)
    check_snapshot(path, prefix)
    summary = RestoreSummary()
    try:
        if url is not None:
            summary.target = f"the Redis at {redact(url)}"
            client = open_redis(url)
            try:
                _into(client, path, prefix, summary, progress)
            finally:
                client.close()
        else:
            assert data_dir is not None
            summary.target = f"the data dir {data_dir}"
            # Each payload checked whole by Redis before it is loaded (a forged one is refused).
            sanitize = ["--sanitize-dump-payload", "yes"]
            with EmbeddedRedis(data_dir, port=0, password=password, extra_args=sanitize) as server:
                client = open_redis(server.url)
                try:
                    _into(client, path, prefix, summary, progress)
                    _rewrite_aof(client)
                finally:
                    client.close()
    except RedisError as exc:
        raise RedisUnavailable(f"Redis failed during the restore: {exc}") from exc
    summary.seconds = time.monotonic() - started
    return summary


def restore_command(path: Path, redis_url: str | None, data_dir: Path | None) -> int:
    """`ragis restore FILE [--redis-url URL | --data-dir DIR]`: by default into REDIS_URL when
    it is set, else into RAGIS_DATA_DIR (which no `ragis up` may be running over)."""
    import sys

    from ragis.settings import RedisSettings, load_up_settings

    settings = RedisSettings.load()
    if redis_url is None and data_dir is None:
        redis_url = settings.redis_url
        data_dir = None if redis_url else settings.data_dir
    given = load_up_settings().redis_password
    summary = restore(
        path,
        settings.key_prefix,
        url=redis_url,
        data_dir=data_dir,
        password=given.get_secret_value() if given else None,
        progress=lambda line: print(line, file=sys.stderr, flush=True),
    )
    print(summary.line())
    return 0
