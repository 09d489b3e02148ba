"""Redis as ragis needs it: reachable with Vector Sets, a release with the vector-set fixes,
persistent, never evicting, holding data of a format this ragis reads.

Everything here is asked with commands the compose file's ACL user `ragis` may run (INFO, GET,
VCARD: the services' own Vector Sets probe, `ensure_vector_sets`); CONFIG, which that user may
not run, is only tried, and its refusal turns into a "could not check" warning.
"""

from __future__ import annotations

import re
from typing import Any

from redis.asyncio import Redis
from redis.backoff import NoBackoff
from redis.exceptions import RedisError, ResponseError
from redis.retry import Retry

from ragis.db.client import RedisClient, connect, ensure_vector_sets, redact
from ragis.db.format import CURRENT_FORMAT, read_format
from ragis.errors import RagisError, RedisUnavailable
from ragis.ops.checks.result import Check, human_bytes

__all__ = [
    "COMPOSE_REDIS",
    "FIXED_RELEASES",
    "check_redis",
    "memory_checks",
    "persistence_checks",
    "vector_set_upgrade",
]

#: The releases that fixed the vector-set bugs that matter in production (a VREM use-after-free
#: while background VSIM threads run, VADD with a huge REDUCE, checks on RDB load), by line.
FIXED_RELEASES = ((8, 6, 3), (8, 8, 2), (8, 10, 1))
#: The image docker-compose.yml pins.
COMPOSE_REDIS = "redis:8.8.2"
#: Used memory above this share of `maxmemory` is a warning.
MEMORY_HIGH = 0.8
#: Seconds to wait for Redis (connecting, then each answer).
TIMEOUT = 5.0


def vector_set_upgrade(version: str) -> str | None:
    """None when Redis `version` has the vector-set fixes; else the first fixed release to move
    to. A line with a fixed release is fixed from that patch on (8.6.3, 8.8.2, 8.10.1); a line
    without one (8.7, 8.9) is not; every line after the last fixed one is. Raises `ValueError`
    for a version that is not MAJOR.MINOR[.PATCH]."""
    match = re.fullmatch(r"\s*(\d+)\.(\d+)(?:\.(\d+))?\S*\s*", version)
    if not match:
        raise ValueError(f"not a Redis version: {version[:40]!r}")
    line = (int(match[1]), int(match[2]))
    patch = int(match[3] or 0)
    for major, minor, fixed_patch in FIXED_RELEASES:
        if line == (major, minor):
            return None if patch >= fixed_patch else f"{major}.{minor}.{fixed_patch}"
        if line < (major, minor):
            return f"{major}.{minor}.{fixed_patch}"
    return None


def _version_check(version: str) -> Check:
    name = "redis-version"
    try:
        target = vector_set_upgrade(version)
    except ValueError:
        return Check.warn(
            name,
            f"Redis reports the version {version[:40]!r}, which ragis cannot compare",
            f"make sure it is {COMPOSE_REDIS.split(':')[1]} or newer (the vector-set fixes)",
        )
    if target is None:
        return Check.ok(name, f"Redis {version} has the vector-set fixes of 8.6.3 / 8.8.2")
    return Check.warn(
        name,
        f"Redis {version} lacks the vector-set fixes of 8.6.3 / 8.8.2 / 8.10.1 (a VREM "
        "use-after-free while searches run, VADD with a huge REDUCE, checks on RDB load)",
        f"for a shared deployment move to Redis {target} or a later fixed release "
        f"(docker-compose.yml pins {COMPOSE_REDIS}); the embedded Redis 8.2.3 of `ragis up` is "
        "fine for one user on loopback",
    )


def _status(value: object) -> str:
    return str(value or "").strip().lower()


def persistence_checks(info: dict[str, Any], config: dict[str, str] | None) -> list[Check]:
    """AOF and RDB from INFO persistence, and `config` (CONFIG GET appendonly save appendfsync;
    None when CONFIG is refused)."""
    name = "persistence"
    aof = bool(int(info.get("aof_enabled", 0) or 0))
    save = (config or {}).get("save", "").strip() if config is not None else None
    checks: list[Check] = []
    if _status(info.get("aof_last_write_status", "ok")) != "ok":
        checks.append(
            Check.problem(
                name,
                "Redis's last write to its append-only file failed: it refuses writes until one "
                "succeeds",
                "look at the Redis log and free disk space where Redis keeps its data",
            )
        )
    if _status(info.get("aof_last_bgrewrite_status", "ok")) != "ok":
        checks.append(
            Check.problem(
                name,
                "Redis's last rewrite of its append-only file failed",
                "look at the Redis log (disk full? keep aof-use-rdb-preamble yes: redis#15387)",
            )
        )
    if _status(info.get("rdb_last_bgsave_status", "ok")) != "ok":
        checks.append(
            Check.problem(
                name,
                "Redis's last RDB snapshot failed",
                "look at the Redis log and the disk where Redis keeps its data",
            )
        )
    if aof:
        fsync = (config or {}).get("appendfsync")
        how = f", appendfsync {fsync}" if fsync else ""
        if not checks:
            checks.append(Check.ok(name, f"AOF on{how}; the last write and rewrite succeeded"))
        if fsync == "no":
            checks.append(
                Check.warn(
                    name,
                    "appendfsync is no: the kernel decides when writes reach the disk",
                    "CONFIG SET appendfsync everysec (and in redis.conf): at most a second lost",
                )
            )
        return checks
    if save is None:
        checks.append(
            Check.warn(
                name,
                "AOF is off, and whether RDB snapshots are on could not be checked (this Redis "
                "user may not run CONFIG)",
                "make sure Redis persists: appendonly yes in its configuration",
            )
        )
    elif save:
        checks.append(
            Check.warn(
                name,
                f"AOF is off: only RDB snapshots (save {save}); a crash loses what came since "
                "the last one",
                "CONFIG SET appendonly yes (and appendonly yes in redis.conf)",
            )
        )
    else:
        checks.append(
            Check.problem(
                name,
                "Redis persists nothing (appendonly no, no save points): every document, "
                "account and chat is lost when it restarts",
                "CONFIG SET appendonly yes, and put appendonly yes in its configuration",
            )
        )
    return checks


def memory_checks(info: dict[str, Any]) -> list[Check]:
    """Used memory against `maxmemory`, and the eviction policy."""
    name = "memory"
    used = int(info.get("used_memory", 0) or 0)
    limit = int(info.get("maxmemory", 0) or 0)
    policy = str(info.get("maxmemory_policy", "") or "unknown")
    checks: list[Check] = []
    if limit and used > MEMORY_HIGH * limit:
        checks.append(
            Check.warn(
                name,
                f"{human_bytes(used)} used of maxmemory {human_bytes(limit)} "
                f"({100 * used / limit:.0f} %)",
                "raise maxmemory (about 1.1 KB a Q8 chunk vector, plus its text) or remove "
                "collections you no longer need",
            )
        )
    else:
        of = f" of maxmemory {human_bytes(limit)}" if limit else " (no maxmemory limit)"
        checks.append(Check.ok(name, f"{human_bytes(used)} used{of}"))
    if policy != "noeviction":
        checks.append(
            Check.warn(
                "eviction",
                f"maxmemory-policy is {policy}: when Redis is full it silently drops keys "
                "(vectors, chunks, accounts) instead of refusing writes, so answers lose "
                "passages without any error",
                "CONFIG SET maxmemory-policy noeviction (and in redis.conf): a full Redis then "
                "refuses uploads, which ragis reports",
            )
        )
    else:
        checks.append(Check.ok("eviction", "maxmemory-policy noeviction: nothing is dropped"))
    return checks


async def _config(client: Redis) -> dict[str, str] | None:
    """CONFIG GET of what the persistence check reads; None when this user may not."""
    found: dict[str, str] = {}
    try:
        for key in ("appendonly", "appendfsync", "save"):
            raw = await client.config_get(key)
            found.update({str(k): str(v) for k, v in raw.items()})
    except ResponseError:
        return None  # NOPERM (an ACL without CONFIG) or a renamed CONFIG
    return found


async def _format_check(client: RedisClient, prefix: str) -> Check:
    name = "data-format"
    try:
        found = await read_format(client, prefix)
    except RagisError as exc:
        return Check.problem(name, exc.message, "check REDIS_URL and RAGIS_KEY_PREFIX")
    if found is None:
        return Check.ok(
            name,
            f"no data format recorded under the prefix {prefix!r}: no data yet, or data from "
            "before workspaces, which the RAG service migrates at start",
        )
    if found > CURRENT_FORMAT:
        return Check.problem(
            name,
            f"the data under {prefix}: is of format {found}, newer than this ragis reads (up to "
            f"{CURRENT_FORMAT}): ragis refuses to start on it",
            "upgrade ragis to the release that wrote it (or point REDIS_URL / RAGIS_KEY_PREFIX "
            "elsewhere)",
        )
    if found < CURRENT_FORMAT:
        return Check.ok(
            name, f"format {found}, older than {CURRENT_FORMAT}: will be migrated at start"
        )
    return Check.ok(name, f"format {found}, this ragis's")


async def _cluster_format_check(url: str, prefix: str) -> Check:
    """The format key lives on the node of its slot: asked through a cluster client."""
    try:
        cluster = await connect(url)
    except RagisError as exc:
        return Check.problem("data-format", exc.message, "check `CLUSTER INFO` on every node")
    try:
        return await _format_check(cluster, prefix)
    finally:
        await cluster.aclose()


async def check_redis(url: str, prefix: str) -> list[Check]:
    """Every Redis line; one problem line and nothing more when Redis cannot be used at all."""
    client = Redis.from_url(
        url,
        socket_timeout=TIMEOUT,
        socket_connect_timeout=TIMEOUT,
        retry=Retry(NoBackoff(), 0),
    )
    try:
        try:
            version = await ensure_vector_sets(client, url)
        except RedisUnavailable as exc:
            return [
                Check.problem(
                    "redis",
                    exc.message,
                    "start Redis 8 (or `ragis up`), or set REDIS_URL to a Redis 8 that answers",
                )
            ]
        try:
            info = await client.info()
            config = await _config(client)
            cluster = bool(info.get("cluster_enabled"))
            node = " (a Redis Cluster: this node's persistence and memory)" if cluster else ""
            checks = [
                Check.ok(
                    "redis", f"Redis {version} at {redact(url)} answers, with Vector Sets{node}"
                ),
                _version_check(version),
                *persistence_checks(info, config),
                *memory_checks(info),
                await (
                    _cluster_format_check(url, prefix) if cluster else _format_check(client, prefix)
                ),
            ]
        except (RedisError, ValueError, TypeError) as exc:
            return [
                Check.problem(
                    "redis",
                    f"Redis at {redact(url)} stopped answering the doctor's questions ({exc})",
                    "look at the Redis log, then run `ragis doctor` again",
                )
            ]
        return checks
    finally:
        await client.aclose()
