"""Redis failures leave the store and the accounts as ragis errors, never as redis-py's.

Every class of `store/` and `accounts/` that talks to Redis is decorated with `@speaks_redis`:
its coroutine methods raise `RedisUnavailable` (the redis-py error as its `__cause__`, for the
log) where redis-py raised. So no code outside `store/`, `accounts/` and `db/` needs to know
redis-py, and the edges turn one ragis error into a 503 or an SSE `error` event with the code
`redis_unavailable`.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

from redis import exceptions as rx

from ragis.errors import RedisUnavailable

__all__ = ["REDIS_FAILURES", "redis_unavailable", "speaks_redis"]

P = ParamSpec("P")
R = TypeVar("R")
C = TypeVar("C", bound=type)

#: What redis-py raises when Redis (or a node of a cluster) fails.
REDIS_FAILURES: tuple[type[Exception], ...] = (rx.RedisError, rx.RedisClusterException)

# Redis, or the node of a key's slot, is down, loading, failing over or timing out.
_NOT_ANSWERING = (
    rx.ConnectionError,
    rx.TimeoutError,
    rx.ClusterDownError,
    rx.TryAgainError,
    rx.ReadOnlyError,
    rx.RedisClusterException,
)


def redis_unavailable(exc: BaseException) -> RedisUnavailable:
    """The ragis error for a redis-py failure, to raise `from` it: its message is for a client,
    the cause for the log."""
    if isinstance(exc, _NOT_ANSWERING):
        message = "Redis did not answer; try again shortly."
    else:
        message = "Redis failed a command; try again, and see the service log if it persists."
    return RedisUnavailable(message)


def _translating(method: Callable[P, Awaitable[R]]) -> Callable[P, Coroutine[Any, Any, R]]:
    @functools.wraps(method)
    async def translated(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await method(*args, **kwargs)
        except REDIS_FAILURES as exc:
            from ragis.obs.hooks import redis_error  # here: ragis.obs imports the settings

            redis_error(exc)
            raise redis_unavailable(exc) from exc

    return translated


def speaks_redis(cls: C) -> C:
    """Class decorator: the class's coroutine methods raise `RedisUnavailable`, not redis-py's
    errors (the errors of ragis, such as `NotFound`, pass through unchanged)."""
    for name, member in list(vars(cls).items()):
        if not name.startswith("__") and inspect.iscoroutinefunction(member):
            setattr(cls, name, _translating(member))
    return cls
