"""Getting a Redis 8 with Vector Sets: the embedded server and the checked client."""

from ragis.db.client import connect, ensure_vector_sets
from ragis.db.embedded import EmbeddedRedis

__all__ = ["EmbeddedRedis", "connect", "ensure_vector_sets"]
