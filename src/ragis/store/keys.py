"""The Redis key layout of ragis, in one place (documented in docs/redis-layout.md).

Every data key starts with the prefix (`RAGIS_KEY_PREFIX`, default `ragis`) and the workspace
it belongs to: `<prefix>:w:<workspace>:...`. Two workspaces may both have a collection
`default`; nothing one workspace's `Keys` builds can name another's key (names are checked, and
cannot hold `:`, `{` or `/`). Every key of one collection carries the same hash tag
`{c:<workspace>/<name>}`, so a collection never spans Redis Cluster slots and its multi-key
transactions stay legal on a cluster, while the workspace in the tag spreads tenants over slots.

A collection created with N > 1 shards keeps its vectors and chunk texts in N shards instead,
each with a hash tag of its own (`{c:<workspace>/<name>:<shard tag>}`), chosen so that the N tags
fall in N different thirds, quarters, ... of the slot space and so on different nodes of an
evenly split cluster. A document lives in one shard, picked by a hash of its id. Its record, the
indexes, the meta and the cache stay under `{c:<workspace>/<name>}`.

Keys outside every workspace: `<prefix>:format` (the data format, ragis.db.format) and
`<prefix>:workspaces:data` (the workspaces that hold collections, for the recovery sweep).
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from functools import lru_cache

from redis.crc import key_slot

from ragis.contract.caller import DEFAULT_WORKSPACE, WORKSPACE_PATTERN
from ragis.contract.fields import ID_PATTERN, NAME_PATTERN
from ragis.errors import InvalidName

__all__ = [
    "ID_PATTERN",
    "NAME_PATTERN",
    "CollectionKeys",
    "Keys",
    "ShardKeys",
    "check_name",
    "check_workspace",
    "shard_of",
    "workspaces_key",
]

SLOTS = 16384

# Collection names; document and session ids: the patterns of the wire contract, which the HTTP
# edges validate with (re-exported here for the store's users).
_NAME = re.compile(NAME_PATTERN)
_ID = re.compile(ID_PATTERN)
_WORKSPACE = re.compile(WORKSPACE_PATTERN)


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


def check_workspace(value: str) -> str:
    """Refuse a workspace name that could escape its keys (the contract's pattern)."""
    if not isinstance(value, str) or not _WORKSPACE.fullmatch(value):
        raise InvalidName(
            f"Invalid workspace {value!r}: use 1-64 letters, digits, '_', '.' or '-', starting "
            "with a letter or digit."
        )
    return value


def workspaces_key(prefix: str) -> str:
    """Set: the workspaces that hold collections (what the background recovery sweeps)."""
    return f"{prefix}:workspaces:data"


def shard_of(doc_id: str, shards: int) -> int:
    """The shard of a document: a stable hash of its id, so a document is in one shard."""
    return zlib.crc32(doc_id.encode("utf-8")) % shards if shards > 1 else 0


@lru_cache(maxsize=4096)
def shard_tag(name: str, index: int, shards: int) -> str:
    """A hash tag for shard `index` whose slot lies in the index-th 1/shards of the slot space."""
    if shards <= 1:
        return f"c:{name}"
    low, high = index * SLOTS // shards, (index + 1) * SLOTS // shards
    for attempt in range(100_000):
        tag = f"c:{name}:s{index}.{attempt}"
        if low <= key_slot(tag.encode()) < high:
            return tag
    raise AssertionError("no shard tag found")  # pragma: no cover - 1/shards of tags qualify


@dataclass(frozen=True, slots=True)
class ShardKeys:
    """The keys of one shard of a collection: its vector set, its chunk texts and the keyword
    index of those chunks (`lex_*`)."""

    prefix: str
    workspace: str
    name: str
    index: int
    shards: int

    @property
    def base(self) -> str:
        tag = shard_tag(f"{self.workspace}/{self.name}", self.index, self.shards)
        return f"{self.prefix}:w:{self.workspace}:{{{tag}}}"

    @property
    def vectors(self) -> str:
        """Vector set: one element per chunk id, attributes {doc, src, pos, tags}."""
        return f"{self.base}:vectors"

    @property
    def vectors_next(self) -> str:
        """Vector set being filled by a reindex with another embedding model (store/reindex.py):
        same elements and attributes as `vectors`; renamed over it when the reindex is done."""
        return f"{self.base}:vectors:next"

    def chunk(self, chunk_id: str) -> str:
        """Hash: text, doc, pos, page."""
        return f"{self.base}:chunk:{chunk_id}"

    def lex_term(self, term: str) -> str:
        """Sorted set: the postings of one term, chunk id -> BM25 term weight (store/lexical.py)."""
        return f"{self.base}:lex:t:{term}"

    def lex_chunk(self, chunk_id: str) -> str:
        """String: a chunk's length and its terms, so its removal is exact."""
        return f"{self.base}:lex:c:{chunk_id}"

    @property
    def lex_stats(self) -> str:
        """Hash: `n` (chunks indexed) and `total` (their summed length), for idf and avgdl."""
        return f"{self.base}:lex:stats"

    @property
    def lex_scratch(self) -> str:
        """Sorted set that lives only inside one search script (created and deleted by it)."""
        return f"{self.base}:lex:tmp"

    @property
    def pattern(self) -> str:
        return f"{self.base}:*"


@dataclass(frozen=True, slots=True)
class CollectionKeys:
    """The keys of one collection; all share the hash tag `{c:<workspace>/<name>}` (shards: see
    above)."""

    prefix: str
    workspace: str
    name: str

    def shard(self, index: int, shards: int) -> ShardKeys:
        return ShardKeys(self.prefix, self.workspace, self.name, index, shards)

    def shards(self, shards: int) -> list[ShardKeys]:
        return [self.shard(i, shards) for i in range(max(shards, 1))]

    def shard_for(self, doc_id: str, shards: int) -> ShardKeys:
        return self.shard(shard_of(doc_id, shards), shards)

    @property
    def base(self) -> str:
        return f"{self.prefix}:w:{self.workspace}:{{c:{self.workspace}/{self.name}}}"

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
        """The vector set of an unsharded collection (shard 0 of 1)."""
        return self.shard(0, 1).vectors

    def chunk(self, chunk_id: str) -> str:
        """A chunk hash of an unsharded collection."""
        return self.shard(0, 1).chunk(chunk_id)

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
    def sources(self) -> str:
        """Hash: source (a synced path, a URL) -> id of the ready document that has it."""
        return f"{self.base}:sources"

    @property
    def ingesting(self) -> str:
        """Set: ids of documents begun and not yet ready or removed, and of retired ones not yet
        removed (what recovery looks at)."""
        return f"{self.base}:ingesting"

    def lease(self, doc_id: str) -> str:
        """String with a TTL: the token of the writer indexing the document, renewed while it
        writes; a document whose lease is gone has lost its writer (see store/recovery.py)."""
        return f"{self.base}:lease:{doc_id}"

    def original(self, doc_id: str) -> str:
        """Hash: `data` (the uploaded file's bytes) and `type` (their content type), kept for
        the viewer while the document is ready (store/originals.py)."""
        return f"{self.base}:original:{doc_id}"

    @property
    def reindex(self) -> str:
        """Hash: the reindex in progress (store/reindex.py): target `model`, `dim`, `started`."""
        return f"{self.base}:reindex"

    @property
    def reindex_done(self) -> str:
        """Hash: document id -> `<signature>:<chunks written>` of the reindex in progress."""
        return f"{self.base}:reindex:done"

    @property
    def reindex_lease(self) -> str:
        """String with a TTL: the token of the running reindex, renewed while it runs."""
        return f"{self.base}:reindex:lease"

    @property
    def cache(self) -> str:
        """Vector set of the semantic cache: one element per cached question."""
        return f"{self.base}:cache"

    def cache_entry(self, entry_id: str) -> str:
        """String (JSON, with TTL): the cached answer and its citations."""
        return f"{self.base}:cache:{entry_id}"


@dataclass(frozen=True, slots=True)
class Keys:
    """The keys of one workspace (`default` unless said: the local single user's)."""

    prefix: str
    workspace: str = DEFAULT_WORKSPACE

    def __post_init__(self) -> None:
        check_workspace(self.workspace)

    def scoped(self, workspace: str) -> Keys:
        """The keys of another workspace, under the same prefix."""
        return Keys(self.prefix, workspace)

    @property
    def base(self) -> str:
        return f"{self.prefix}:w:{self.workspace}"

    @property
    def pattern(self) -> str:
        """A SCAN pattern matching every key of this workspace (names hold no glob character)."""
        return f"{self.base}:*"

    @property
    def workspaces(self) -> str:
        """Set: the workspaces that hold collections (outside every workspace)."""
        return workspaces_key(self.prefix)

    @property
    def collections(self) -> str:
        """Set: the names of the workspace's collections."""
        return f"{self.base}:collections"

    def collection(self, name: str) -> CollectionKeys:
        return CollectionKeys(self.prefix, self.workspace, check_name(name, "collection name"))

    def session(self, session_id: str) -> str:
        """List of JSON messages (each naming its collection and owner), with a TTL refreshed on
        every write."""
        return f"{self.base}:session:{check_name(session_id, 'session id', long=True)}"

    def conversation(self, session_id: str) -> str:
        """Hash: a conversation's `owner`, `collection`, `title`, `created`, `updated` (its
        session's list is the transcript), with the session's TTL (store/conversations.py)."""
        return f"{self.base}:conversation:{check_name(session_id, 'session id', long=True)}"

    def conversations(self, user: str) -> str:
        """Sorted set: the session ids of `user`'s conversations in this workspace, scored by
        the time of their last message (the list the sidebar shows)."""
        return f"{self.base}:conversations:{check_name(user, 'user name')}"
