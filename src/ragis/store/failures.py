"""Redis failures leave the store as ragis errors: the decorator lives in `ragis.db.failures`
(the accounts speak Redis too), re-exported here for the store's modules."""

from __future__ import annotations

from ragis.db.failures import REDIS_FAILURES, redis_unavailable, speaks_redis

__all__ = ["REDIS_FAILURES", "redis_unavailable", "speaks_redis"]
