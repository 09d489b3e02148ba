"""The Redis key layout of ragis, in one place (documented in docs/redis-layout.md).

Every key starts with the prefix (`RAGIS_KEY_PREFIX`, default `ragis`). Every key of one
collection carries the same hash tag `{c:<name>}`, so a collection never spans Redis Cluster
slots and its multi-key transactions stay legal on a cluster.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ragis.errors import InvalidName

__all__ = ["CollectionKeys", "Keys", "check_name"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


def check_name(value: str, what: str, *, long: bool = False) -> str:
    """Refuse names that could escape their key: only letters, digits, `_`, `.`, `-`."""
    pattern = _ID if long else _NAME
    if not isinstance(value, str) or not pattern.fullmatch(value):
        limit = 128 if long else 64
        raise InvalidName(
            f"Invalid {what} {value!r}: use 1-{limit} letters, digits, '_', '.' or '-', "
            "starting with a letter or digit."
        )
    return value


@dataclass(frozen=True, slots=True)
class CollectionKeys:
    """The keys of one collection; all share the hash tag `{c:<name>}`."""

    prefix: str
    name: str

    @property
    def base(self) -> str:
        return f"{self.prefix}:{{c:{self.name}}}"

    @property
    def pattern(self) -> str:
        """A SCAN pattern matching every key of this collection."""
        return f"{self.base}:*"

    @property
    def meta(self) -> str:
        """Hash: embedding model, dimension, quantization, M, version, created."""
        return f"{self.base}:meta"

    @property
    def vectors(self) -> str:
        """Vector set: one element per chunk id, attributes {doc, src, pos, tags}."""
        return f"{self.base}:vectors"

    def chunk(self, chunk_id: str) -> str:
        """Hash: text, doc, pos, page."""
        return f"{self.base}:chunk:{chunk_id}"

    def doc(self, doc_id: str) -> str:
        """Hash: the document record."""
        return f"{self.base}:doc:{doc_id}"

    @property
    def docs(self) -> str:
        """Sorted set: document id scored by creation time."""
        return f"{self.base}:docs"

    @property
    def sha(self) -> str:
        """Hash: sha256 -> document id."""
        return f"{self.base}:sha"

    @property
    def cache(self) -> str:
        """Vector set of the semantic cache: one element per cached question."""
        return f"{self.base}:cache"

    def cache_entry(self, entry_id: str) -> str:
        """String (JSON, with TTL): the cached answer and its citations."""
        return f"{self.base}:cache:{entry_id}"


@dataclass(frozen=True, slots=True)
class Keys:
    prefix: str

    @property
    def collections(self) -> str:
        """Set: the names of all collections."""
        return f"{self.prefix}:collections"

    def collection(self, name: str) -> CollectionKeys:
        return CollectionKeys(self.prefix, check_name(name, "collection name"))

    def session(self, session_id: str) -> str:
        """List of JSON messages, with a TTL refreshed on every write."""
        return f"{self.prefix}:session:{check_name(session_id, 'session id', long=True)}"
