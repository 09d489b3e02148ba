"""Connecting to Redis (a single server or a Redis Cluster) and refusing one without Vector Sets.

`connect()` asks the server whether it runs in cluster mode and returns a `RedisCluster` client
when it does, so `REDIS_URL` can point at any node of a cluster and nothing else changes.
"""

from __future__ import annotations

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import RedisError, ResponseError

from ragis.errors import RedisUnavailable, VectorSetsMissing

__all__ = ["RedisClient", "connect", "ensure_vector_sets", "redact"]

#: What the data layer talks to: one server, or a cluster (same commands, routed by key slot).
RedisClient = Redis | RedisCluster


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    if "@" not in url:
        return url
    scheme, _, rest = url.partition("://")
    creds, _, host = rest.rpartition("@")
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user + ':***@' if user else '***@'}{host}"


async def ensure_vector_sets(client: RedisClient, url: str) -> str:
    """Return the server's version, or raise `VectorSetsMissing` with how to fix it."""
    known = True
    try:
        info = await client.info("server")
        try:
            # VCARD of a key that does not exist: 0 on Redis 8, "unknown command" on Redis 7.
            await client.execute_command("VCARD", "ragis:vector-sets-probe")
        except ResponseError as exc:
            if "unknown command" not in str(exc).lower():
                raise
            known = False
    except RedisError as exc:
        raise RedisUnavailable(
            f"Cannot reach Redis at {redact(url)} ({exc}): start it, or unset REDIS_URL so "
            "ragis runs its embedded Redis 8."
        ) from exc
    version = str(info.get("redis_version", "unknown"))
    if not known:
        raise VectorSetsMissing(
            f"The Redis at {redact(url)} (version {version}) has no Vector Sets (VADD is unknown): "
            "ragis needs Redis 8 or newer — point REDIS_URL at a Redis 8 server (for example the "
            "official redis:8 image), or unset REDIS_URL to use the embedded Redis 8."
        )
    return version


async def connect(url: str) -> RedisClient:
    """An asyncio client for `url`, checked for Vector Sets. The caller closes it (`aclose`)."""
    client = Redis.from_url(url, decode_responses=False, health_check_interval=30)
    try:
        await ensure_vector_sets(client, url)
        info = await client.info("cluster")
    except BaseException:
        await client.aclose()
        raise
    if not info.get("cluster_enabled"):
        return client
    await client.aclose()
    cluster = RedisCluster.from_url(url, decode_responses=False)
    try:
        await cluster.initialize()
    except RedisError as exc:
        await cluster.aclose()
        raise RedisUnavailable(
            f"The Redis Cluster at {redact(url)} is not usable ({exc}): check `CLUSTER INFO`."
        ) from exc
    return cluster
