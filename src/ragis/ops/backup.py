"""`ragis backup FILE`: a consistent snapshot of every key ragis keeps, taken while it runs.

Every key under `RAGIS_KEY_PREFIX` is copied with Redis's own `DUMP` (any type) and its expiry:
collections, documents, chunks and vector sets, the keyword index, cached answers, originals,
sessions and conversations, the accounts (`{auth}`), the format key.

Consistent per hash tag: the keys of one collection (with its shards) are listed, then dumped in
one `MULTI`, so no document is copied half: the transaction runs while no command can
interleave, and it is `WATCH`ed on the collection's `meta`, whose version every document made
ready or deleted bumps, so a document that becomes ready between the listing and the
transaction (its late chunks not listed) makes the copy start over. A document still being
written is copied as `ingesting` with its lease: restored, recovery removes it once the lease
has expired, as after a crash. The accounts (`{auth}`) are copied in one transaction the same
way (watched on their own keys). Keys outside every hash tag (sessions, conversations, the
format) stand alone and are copied in batches.

The file is written to FILE.tmp and renamed when complete (ragis.ops.snapshot): a backup that
fails leaves no file that looks whole. Redis Cluster is not covered: back up each node with
Redis's own tools (docs/deploy.md).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis
from redis.exceptions import RedisError, WatchError

from ragis import __version__
from ragis.db.client import redact
from ragis.db.format import CURRENT_FORMAT, LEGACY_FORMAT, format_key, parse_format
from ragis.errors import ConfigError, DataFormatTooNew, RedisUnavailable
from ragis.ops.snapshot import SnapshotWriter

__all__ = ["BackupSummary", "backup", "backup_command", "group_of", "open_redis"]

#: Keys dumped per round trip outside the collections.
BATCH = 1000
#: How often a collection is listed again when documents keep becoming ready during its copy.
ATTEMPTS = 20
#: Seconds between two progress lines.
PROGRESS_EVERY = 2.0

Progress = Callable[[str], None]


@dataclass
class BackupSummary:
    path: Path
    keys: int = 0
    payload_bytes: int = 0
    file_bytes: int = 0
    collections: int = 0
    seconds: float = 0.0
    retries: int = 0
    groups: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        return (
            f"backup written to {self.path}: {self.keys} keys ({self.collections} collections), "
            f"{self.payload_bytes / 1e6:.1f} MB of data in a {self.file_bytes / 1e6:.1f} MB file, "
            f"in {self.seconds:.1f} s"
        )


def open_redis(url: str) -> redis.Redis:
    """A client of the single Redis at `url` (a cluster is refused with what to do instead)."""
    client = redis.Redis.from_url(url, decode_responses=False, socket_timeout=600)
    try:
        if client.info("cluster").get("cluster_enabled"):
            raise ConfigError(
                f"The Redis at {redact(url)} is a Redis Cluster: `ragis backup` and `ragis "
                "restore` work on a single server; back up a cluster node by node with Redis's "
                "own tools (docs/deploy.md, 'Backup and restore')."
            )
    except RedisError as exc:
        client.close()
        raise RedisUnavailable(f"Cannot reach Redis at {redact(url)} ({exc}).") from exc
    except BaseException:
        client.close()
        raise
    return client


def group_of(key: bytes) -> str | None:
    """The hash tag that ties `key` to others (a collection's, with its shards folded in:
    `c:WS/NAME`; the accounts' `auth`), or None for a key that stands alone."""
    start = key.find(b"{")
    if start < 0:
        return None
    end = key.find(b"}", start + 1)
    if end <= start + 1:
        return None
    tag = key[start + 1 : end].decode("utf-8", "replace")
    if tag.startswith("c:"):
        # `c:WS/NAME:sI.J` is shard I of `c:WS/NAME` (names cannot hold ':').
        return ":".join(tag.split(":", 2)[:2])
    return tag


def _scratch(key: bytes) -> bool:
    """A search script's scratch keys, which live only inside that script."""
    return b":lex:tmp" in key


def _pattern(prefix: str, group: str) -> str:
    # `{TAG}` or `{TAG:...}` (a shard); names and prefixes hold no glob character.
    return f"{prefix}:*{{{group}[}}:]*"


class _Backup:
    def __init__(self, client: redis.Redis, prefix: str, writer: SnapshotWriter | None,
                 progress: Progress | None) -> None:  # fmt: skip
        self.client = client
        self.prefix = prefix
        self.writer = writer
        self.progress = progress
        self.retries = 0
        self._last = time.monotonic()

    def scan(self, match: str) -> Iterable[bytes]:
        for key in self.client.scan_iter(match=match, count=1000):
            if not _scratch(key):
                yield key

    def groups(self) -> tuple[set[str], int]:
        groups: set[str] = set()
        alone = 0
        for key in self.scan(f"{self.prefix}:*"):
            group = group_of(key)
            if group is None:
                alone += 1
            else:
                groups.add(group)
        return groups, alone

    def collections(self, groups: Iterable[str]) -> list[dict[str, Any]]:
        described = []
        for group in sorted(g for g in groups if g.startswith("c:")):
            # `c:WS/NAME`; `c:NAME` in data of format 1 (before workspaces).
            workspace, _, name = group[2:].rpartition("/")
            meta: dict[bytes, bytes] = self.client.hgetall(self._meta(group))  # type: ignore[assignment]
            fields = {k.decode(): v.decode("utf-8", "replace") for k, v in meta.items()}
            described.append(
                {
                    "workspace": workspace or None,
                    "name": name,
                    "model": fields.get("model"),
                    "dim": int(fields["dim"]) if fields.get("dim", "").isdigit() else None,
                    "shards": int(fields.get("shards") or 1),
                }
            )
        return described

    def _meta(self, group: str) -> str:
        workspace, slash, _ = group[2:].partition("/")
        if not slash:  # format 1
            return f"{self.prefix}:{{{group}}}:meta"
        return f"{self.prefix}:w:{workspace}:{{{group}}}:meta"

    def copy_group(self, group: str) -> int:
        """Dump every key of `group` in one transaction; returns how many were written."""
        for attempt in range(ATTEMPTS):
            with self.client.pipeline(transaction=True) as pipe:
                # A collection: watched on its meta (version bumped by every ready or deleted
                # document); the accounts: on every one of their keys (few, rarely written),
                # listed once to know them, and again once watched.
                watched: list[str | bytes]
                if group.startswith("c:"):
                    watched = [self._meta(group)]
                else:
                    watched = list(self.scan(_pattern(self.prefix, group)))
                if watched:
                    pipe.watch(*watched)
                keys = list(self.scan(_pattern(self.prefix, group)))
                pipe.multi()
                pipe.time()
                for key in keys:
                    pipe.dump(key)
                    pipe.pttl(key)
                try:
                    replies = pipe.execute()
                except WatchError:
                    self.retries += 1
                    time.sleep(min(0.05 * (attempt + 1), 0.5))
                    continue
            return self._write(keys, replies)
        raise RedisUnavailable(
            f"The keys of {group} kept changing during {ATTEMPTS} attempts to copy them "
            "consistently: run the backup again when fewer documents are being ingested."
        )

    def copy_alone(self) -> int:
        written = 0
        batch: list[bytes] = []
        for key in self.scan(f"{self.prefix}:*"):
            if group_of(key) is None:
                batch.append(key)
            if len(batch) >= BATCH:
                written += self._copy_batch(batch)
                batch = []
        if batch:
            written += self._copy_batch(batch)
        return written

    def _copy_batch(self, keys: list[bytes]) -> int:
        with self.client.pipeline(transaction=False) as pipe:
            pipe.time()
            for key in keys:
                pipe.dump(key)
                pipe.pttl(key)
            return self._write(keys, pipe.execute())

    def _write(self, keys: list[bytes], replies: list[Any]) -> int:
        assert self.writer is not None
        seconds, micros = replies[0]
        now_ms = int(seconds) * 1000 + int(micros) // 1000
        written = 0
        for i, key in enumerate(keys):
            payload, pttl = replies[1 + 2 * i], replies[2 + 2 * i]
            if payload is None or pttl == -2:
                continue  # gone between the listing and the copy
            self.writer.add(key, now_ms + int(pttl) if pttl >= 0 else -1, payload)
            written += 1
        self._report()
        return written

    def _report(self) -> None:
        if self.progress is None or self.writer is None:
            return
        if time.monotonic() - self._last >= PROGRESS_EVERY:
            self._last = time.monotonic()
            self.progress(
                f"backup: {self.writer.keys} keys, {self.writer.payload_bytes / 1e6:.1f} MB "
                "so far ..."
            )


def _data_format(client: redis.Redis, prefix: str, url: str, any_key: bool) -> int:
    found = parse_format(client.get(format_key(prefix)), prefix)
    if found is None:
        return LEGACY_FORMAT if any_key else CURRENT_FORMAT
    if found > CURRENT_FORMAT:
        raise DataFormatTooNew(
            f"Redis at {redact(url)} holds ragis data of format {found}; this ragis knows up to "
            f"{CURRENT_FORMAT}: back it up with the ragis that runs on it."
        )
    return found


def backup(url: str, prefix: str, path: Path, *, progress: Progress | None = None) -> BackupSummary:
    """Write a snapshot of every key under `prefix` in the Redis at `url` to `path`."""
    started = time.monotonic()
    path = Path(path)
    temporary = path.with_name(path.name + ".tmp")
    client = open_redis(url)
    try:
        job = _Backup(client, prefix, None, progress)
        try:
            groups, alone = job.groups()
            version = str(client.info("server").get("redis_version", "unknown"))
            described = job.collections(groups)
            header = {
                "ragis_version": __version__,
                "data_format": _data_format(client, prefix, url, bool(groups or alone)),
                "redis_version": version,
                "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "key_prefix": prefix,
                "collections": described,
            }
        except RedisError as exc:
            raise RedisUnavailable(f"Redis failed while listing keys: {exc}") from exc
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        try:
            writer = SnapshotWriter(temporary, header)
        except OSError as exc:
            raise ConfigError(f"Cannot write {temporary}: {exc.strerror or exc}.") from None
        job.writer = writer
        summary = BackupSummary(path, collections=len(described))
        try:
            for group in sorted(groups):
                summary.groups[group] = job.copy_group(group)
            job.copy_alone()
            trailer = writer.close()
        except BaseException:
            writer.abort()
            with contextlib.suppress(OSError):
                temporary.unlink()
            raise
        os.replace(temporary, path)
    except RedisError as exc:
        raise RedisUnavailable(f"Redis failed during the backup: {exc}") from exc
    finally:
        client.close()
    summary.keys = trailer.keys
    summary.payload_bytes = trailer.payload_bytes
    summary.file_bytes = path.stat().st_size
    summary.retries = job.retries
    summary.seconds = time.monotonic() - started
    return summary


def backup_command(path: Path) -> int:
    """`ragis backup FILE` with the settings the services read: REDIS_URL, else the embedded
    Redis of the `ragis up` running over RAGIS_DATA_DIR; RAGIS_KEY_PREFIX."""
    import sys

    from ragis.client.admin import redis_of
    from ragis.settings import RedisSettings, load_up_settings

    given = load_up_settings().redis_password
    settings = RedisSettings.load()
    try:
        settings = redis_of(settings, given.get_secret_value() if given else None)
    except ConfigError:
        raise ConfigError(
            "Nothing to back up from: REDIS_URL is unset and no `ragis up` runs over the data "
            f"dir {settings.data_dir.resolve()} (RAGIS_DATA_DIR). Set REDIS_URL, or RAGIS_DATA_DIR "
            "to the data dir of the running ragis (a stopped data dir needs no backup tool: copy "
            "it)."
        ) from None
    assert settings.redis_url is not None
    summary = backup(
        settings.redis_url,
        settings.key_prefix,
        path,
        progress=lambda line: print(line, file=sys.stderr, flush=True),
    )
    print(summary.line())
    return 0
