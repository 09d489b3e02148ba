"""The keyword index of a collection: BM25 over Redis sorted sets, one index per shard.

The embedded Redis has no Query Engine, so the index is built from plain data types, under the
shard's hash tag next to its vector set (store/keys.py `ShardKeys.lex_*`):

    lex:t:TERM       sorted set   chunk id -> the term's BM25 weight in that chunk
    lex:c:CHUNK      string       "LENGTH term term ...": what `remove` must undo, exactly
    lex:stats        hash         n (chunks indexed), total (their summed length)

**Scoring.** BM25 (k1 = 1.2, b = 0.75) is `sum over query terms of idf(t) * w(t, chunk)` with
`w = tf * (k1 + 1) / (tf + k1 * (1 - b + b * len / avgdl))`. The two halves are split by when
they are known:

- `w` is computed at **write** time and stored as the posting's score. It depends on the
  shard's average chunk length, which is read when the chunk is added (including it): an
  approximation, since the average drifts as the shard grows, but a small one, because the
  chunker bounds chunk sizes so the average settles within the first documents.
- `idf = ln(1 + (N - df + 0.5) / (df + 0.5))` is computed at **query** time, exactly, from
  `N = lex:stats n` and `df = ZCARD lex:t:TERM`. So adding or removing documents never
  requires rewriting old postings.

A search is one Lua script per shard, one round trip. It reads N and each df, then:

- if no query term has more than `depth` postings (100; the usual case: codes, names, most
  words), `ZUNIONSTORE scratch WEIGHTS idf...` sums every posting in C and
  `ZRANGE scratch 0 k-1 REV WITHSCORES` reads the best `k`: exact BM25;
- otherwise (a frequent word such as "error" in a large shard, where the union over 100,000
  postings took 300-550 ms) the candidates are each term's `depth` best postings by weight
  (all of a rarer term's), and every candidate gets its exact score: a frequent term's
  postings are intersected with the candidates (`ZINTERSTORE`, which walks the smaller set),
  then summed with the idf weights. A chunk in none of the terms' best `depth` is not found:
  the usual impact-ordered approximation, which cannot miss a chunk holding a rare term (an
  identifier). Measured on one shard of 100,000 chunks of real text (bench section 10's
  corpus), natural-language questions: depth 250 took 15.0 ms p50, depth 100 3.8 ms, depth 50
  2.4 ms (the same run, a busy machine); against exact BM25 their best hit was the same for
  46, 42 and 36 of 50 questions, their top 20 overlapped 0.89, 0.76 and 0.62. 100, because in
  hybrid search (the default) such diffuse lexical scores only break near-ties of the vector
  leg (store/fusion.py), and a question that names a rare term or a code is exact at any
  depth. Exact-term questions: 1.7 ms p50 at depth 100.

The scratch keys are created and deleted inside one atomic script, so the script turns its
replication off (`redis.set_repl(REPL_NONE)`): a search writes nothing to the AOF or replicas.
With several shards, the stats of all shards are summed first (one parallel round trip) so the
idf is the collection's, not a shard's, and each shard's script gets those weights. A shard
that does not answer within `shard_timeout` (its node is down) makes the result `partial`, as in
the vector leg (store/vectors.py), instead of failing the search.

**Writes.** `queue_add` / `queue_remove` queue one script per chunk on the caller's pipeline,
so the postings go in the same `MULTI` as the chunk's vector and text: a document is findable
by both legs at once or by neither. Adding a chunk id that is already indexed first removes its
old postings (a replace leaves no stale term), and removing the last chunk of a shard deletes
its stats, so a shard emptied by deletes holds no `lex:` key. The scripts touch term keys they
build from the shard's key prefix: each has the shard's hash tag, so it lies in the slot of the
declared keys, which Redis Cluster allows.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
from collections.abc import Awaitable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

from ragis.db.client import RedisClient
from ragis.errors import InvalidInput, RedisUnavailable
from ragis.store.codec import text_of
from ragis.store.failures import REDIS_FAILURES, speaks_redis
from ragis.store.keys import ShardKeys

__all__ = ["DEFAULT_DEPTH", "K1", "B", "LexicalHit", "LexicalIndex", "LexicalSearch", "idf"]

log = logging.getLogger("ragis.store")
T = TypeVar("T")

#: BM25's term-frequency saturation and length normalisation (the values of Lucene and most
#: BM25 implementations).
K1 = 1.2
B = 0.75

_MAX_K = 1000
#: How many postings of a frequent term a search reads: its best by weight (see above). Larger:
#: closer to exact BM25 on queries of frequent words, slower (about linear).
DEFAULT_DEPTH = 100
_MAX_QUERY_TERMS = 64
# A term is a key suffix and a space-separated word of lex:c: no whitespace, bounded size.
_MAX_TERM_BYTES = 256
_MAX_TERMS_PER_CHUNK = 100_000
_CHUNK_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}:\d{1,9}")
_WHITESPACE = re.compile(r"\s")

# Shared by add and remove: undo exactly what an earlier add of this chunk wrote.
_DROP = """
local function drop(stats, chunk, id, prefix)
  local old = redis.call('GET', chunk)
  if not old then return end
  local len
  for word in string.gmatch(old, '%S+') do
    if len == nil then len = tonumber(word) else redis.call('ZREM', prefix .. word, id) end
  end
  redis.call('DEL', chunk)
  local n = redis.call('HINCRBY', stats, 'n', -1)
  redis.call('HINCRBY', stats, 'total', -len)
  if n <= 0 then redis.call('DEL', stats) end
end
"""

# KEYS: stats, chunk, the chunk's text hash; ARGV: chunk id, term key prefix, k1, b, length,
# term, tf, term, tf, ... A chunk whose text is gone (its document was removed meanwhile) is
# not indexed: 0. So no posting outlives its chunk, whoever writes (ingest, the backfill).
_ADD = (
    _DROP
    + """
local id, prefix = ARGV[1], ARGV[2]
local k1, b, len = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
if redis.call('EXISTS', KEYS[3]) == 0 then return 0 end
drop(KEYS[1], KEYS[2], id, prefix)
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
local total = redis.call('HINCRBY', KEYS[1], 'total', len)
local norm = k1 * (1 - b + b * len * n / total)
local words = {ARGV[5]}
for i = 6, #ARGV, 2 do
  local tf = tonumber(ARGV[i + 1])
  redis.call('ZADD', prefix .. ARGV[i], tf * (k1 + 1) / (tf + norm), id)
  words[#words + 1] = ARGV[i]
end
redis.call('SET', KEYS[2], table.concat(words, ' '))
return 1
"""
)

# KEYS: stats, chunk; ARGV: chunk id, term key prefix. 1 if the chunk was indexed.
_REMOVE = (
    _DROP
    + """
local existed = redis.call('EXISTS', KEYS[2])
drop(KEYS[1], KEYS[2], ARGV[1], ARGV[2])
return existed
"""
)

# KEYS: stats, scratch, term keys...; ARGV: k, depth, then '' (idf from this shard's stats) or
# one idf per term key. Returns chunk id, score, chunk id, score, ... best first.
_SEARCH = """
redis.set_repl(redis.REPL_NONE)
local n = tonumber(redis.call('HGET', KEYS[1], 'n') or '0')
if n <= 0 then return {} end
local k, depth = tonumber(ARGV[1]), tonumber(ARGV[2])
local keys, weights, deepest = {}, {}, 0
for i = 3, #KEYS do
  local df = redis.call('ZCARD', KEYS[i])
  if df > 0 then
    local idf = tonumber(ARGV[i])
    if ARGV[3] == '' then idf = math.log(1 + (n - df + 0.5) / (df + 0.5)) end
    keys[#keys + 1] = KEYS[i]
    weights[#weights + 1] = idf
    if df > deepest then deepest = df end
  end
end
if #keys == 0 then return {} end
if deepest <= depth then
  local args = {KEYS[2], #keys}
  for _, key in ipairs(keys) do args[#args + 1] = key end
  args[#args + 1] = 'WEIGHTS'
  for _, w in ipairs(weights) do args[#args + 1] = w end
  redis.call('ZUNIONSTORE', unpack(args))
  local top = redis.call('ZRANGE', KEYS[2], 0, k - 1, 'REV', 'WITHSCORES')
  redis.call('DEL', KEYS[2])
  return top
end
-- Frequent terms: the candidates are each term's `depth` best postings (a rare term's all),
-- then every candidate gets its exact score: a rare term's postings are all there already; a
-- frequent term's are intersected with the candidates (Redis walks the smaller set). All in C,
-- on sets of at most terms x depth entries.
local cand, parts, frequent = KEYS[2] .. ':c', {}, {}
for j, key in ipairs(keys) do
  parts[j] = KEYS[2] .. ':' .. j
  frequent[j] = redis.call('ZRANGESTORE', parts[j], key, 0, depth - 1, 'REV') >= depth
end
redis.call('ZUNIONSTORE', cand, #parts, unpack(parts))
for j, key in ipairs(keys) do
  if frequent[j] then redis.call('ZINTERSTORE', parts[j], 2, cand, key, 'WEIGHTS', 0, 1) end
end
local args = {KEYS[2], #parts}
for _, part in ipairs(parts) do args[#args + 1] = part end
args[#args + 1] = 'WEIGHTS'
for _, w in ipairs(weights) do args[#args + 1] = w end
redis.call('ZUNIONSTORE', unpack(args))
local top = redis.call('ZRANGE', KEYS[2], 0, k - 1, 'REV', 'WITHSCORES')
redis.call('DEL', KEYS[2], cand, unpack(parts))
return top
"""


# KEYS: stats, term keys...; returns n, then each term's df.
_STATS = """
local out = {tonumber(redis.call('HGET', KEYS[1], 'n') or '0')}
for i = 2, #KEYS do out[#out + 1] = redis.call('ZCARD', KEYS[i]) end
return out
"""


class LexicalHit(NamedTuple):
    chunk_id: str
    score: float


@dataclass(frozen=True, slots=True)
class LexicalSearch:
    """The hits of a search over every shard; `partial` when some shard could not answer."""

    hits: list[LexicalHit]
    partial: bool = False


def idf(n: int, df: int) -> float:
    """BM25's idf as Lucene defines it: always positive, so a term in every chunk still counts."""
    return math.log(1 + (n - df + 0.5) / (df + 0.5))


@speaks_redis
class LexicalIndex:
    """Add, remove and search the keyword index of a collection's shards."""

    def __init__(
        self,
        redis: RedisClient,
        *,
        batch_size: int = 256,
        depth: int = DEFAULT_DEPTH,
        shard_timeout: float = 2.0,
    ) -> None:
        self._redis = redis
        self._batch = batch_size
        self._depth = depth
        self._shard_timeout = shard_timeout

    # -- writes, queued on the caller's pipeline (the same MULTI as the vectors) ---------------

    @staticmethod
    def queue_add(
        pipe: Any, shard: ShardKeys, chunks: Sequence[tuple[str, Mapping[str, int]]]
    ) -> None:
        """Queue the indexing of `chunks` (chunk id, term -> frequency) of one shard on `pipe`;
        a chunk already indexed is replaced, one whose text is not stored is skipped (reply 0).
        Everything is checked before anything is queued."""
        checked = [(_check_chunk_id(cid), _check_terms(terms)) for cid, terms in chunks]
        prefix = shard.lex_term("")
        for cid, terms in checked:
            if not terms:
                # Nothing to find it by; an older version of the chunk must still go.
                LexicalIndex.queue_remove(pipe, shard, [cid])
                continue
            length = sum(terms.values())
            args: list[str | int | float] = [cid, prefix, K1, B, length]
            for term, tf in terms.items():
                args += [term, tf]
            keys = (shard.lex_stats, shard.lex_chunk(cid), shard.chunk(cid))
            pipe.execute_command("EVAL", _ADD, len(keys), *keys, *args)

    @staticmethod
    def queue_remove(pipe: Any, shard: ShardKeys, chunk_ids: Sequence[str]) -> None:
        """Queue the removal of exactly what `queue_add` wrote for `chunk_ids` (each reply is 1
        if the chunk was indexed)."""
        prefix = shard.lex_term("")
        for cid in chunk_ids:
            key = shard.lex_chunk(_check_chunk_id(cid))
            pipe.execute_command("EVAL", _REMOVE, 2, shard.lex_stats, key, cid, prefix)

    # -- the same writes in transactions of their own -----------------------------------------

    async def add(self, shard: ShardKeys, chunks: Sequence[tuple[str, Mapping[str, int]]]) -> None:
        """Index `chunks` of one shard, one `MULTI` per batch."""
        for start in range(0, len(chunks), self._batch):
            async with self._redis.pipeline(transaction=True) as pipe:
                self.queue_add(pipe, shard, chunks[start : start + self._batch])
                await pipe.execute()

    async def remove(self, shard: ShardKeys, chunk_ids: Sequence[str]) -> int:
        """Un-index `chunk_ids` of one shard; returns how many were indexed."""
        removed = 0
        for start in range(0, len(chunk_ids), self._batch):
            async with self._redis.pipeline(transaction=True) as pipe:
                self.queue_remove(pipe, shard, chunk_ids[start : start + self._batch])
                removed += sum(int(r) for r in await pipe.execute())
        return removed

    # -- search -------------------------------------------------------------------------------

    async def search(
        self, shards: Sequence[ShardKeys], query_terms: Sequence[str], k: int
    ) -> list[LexicalHit]:
        """The `k` chunks of the best BM25 score for `query_terms`, best first (ties by chunk
        id, descending, as `ZRANGE REV` orders them)."""
        return (await self.search_all(shards, query_terms, k)).hits

    async def search_all(
        self, shards: Sequence[ShardKeys], query_terms: Sequence[str], k: int
    ) -> LexicalSearch:
        """As `search`, over every shard in parallel; a shard that does not answer (its node is
        down) makes the result `partial`, as in the vector leg, unless none answers."""
        terms = list(dict.fromkeys(query_terms))[:_MAX_QUERY_TERMS]
        terms = [t for t in terms if _valid_term(t)]
        k = max(1, min(int(k), _MAX_K))
        if not terms or not shards:
            return LexicalSearch([])
        if len(shards) == 1:
            return LexicalSearch(await self._search_shard(shards[0], terms, k, None))
        stats = await self._each(self._shard_stats(shard, terms) for shard in shards)
        answered = [(shard, reply) for shard, reply in zip(shards, stats, strict=True) if reply]
        if not answered:
            raise RedisUnavailable("No shard of the collection's keyword index answers.")
        n = sum(int(reply[0] or 0) for _, reply in answered)
        dfs = [sum(int(reply[i + 1]) for _, reply in answered) for i in range(len(terms))]
        weights = [idf(n, df) for df in dfs]
        replies = await self._each(
            self._search_shard(shard, terms, k, weights) for shard, _ in answered
        )
        hits = [hit for reply in replies if reply is not None for hit in reply]
        hits.sort(key=lambda hit: (hit.score, hit.chunk_id), reverse=True)
        partial = len(shards) - sum(reply is not None for reply in replies) > 0
        return LexicalSearch(hits[:k], partial=partial)

    async def stats(self, shard: ShardKeys) -> tuple[int, int]:
        """(chunks indexed, their summed length) of one shard."""
        n, total = await self._redis.hmget(shard.lex_stats, ["n", "total"])
        return int(n or 0), int(total or 0)

    async def _each(self, calls: Iterable[Awaitable[T]]) -> list[T | None]:
        """Run one call per shard in parallel; None for a shard that failed or timed out."""
        replies = await asyncio.gather(
            *(asyncio.wait_for(call, timeout=self._shard_timeout) for call in calls),
            return_exceptions=True,
        )
        out: list[T | None] = []
        for reply in replies:
            if isinstance(reply, (*REDIS_FAILURES, RedisUnavailable, OSError, TimeoutError)):
                log.warning("a shard of the keyword index did not answer: %s", reply)
                out.append(None)
            elif isinstance(reply, BaseException):
                raise reply
            else:
                out.append(reply)
        return out

    async def _shard_stats(self, shard: ShardKeys, terms: list[str]) -> list[Any]:
        # One command per shard, not a pipeline: a cluster pipeline that meets a down node
        # fails the pipelines of the other shards running at the same moment.
        keys = [shard.lex_stats, *(shard.lex_term(t) for t in terms)]
        reply = await self._redis.execute_command("EVAL", _STATS, len(keys), *keys)
        return list(reply)

    async def _search_shard(
        self, shard: ShardKeys, terms: list[str], k: int, weights: list[float] | None
    ) -> list[LexicalHit]:
        keys = [shard.lex_stats, shard.lex_scratch, *(shard.lex_term(t) for t in terms)]
        args: list[str | int | float] = [
            k,
            self._depth,
            *(weights if weights is not None else [""] * len(terms)),
        ]
        reply = await self._redis.execute_command("EVAL", _SEARCH, len(keys), *keys, *args)
        flat = list(reply or [])
        return [
            LexicalHit(text_of(flat[i]), float(flat[i + 1])) for i in range(0, len(flat) - 1, 2)
        ]


def _valid_term(term: object) -> bool:
    return (
        isinstance(term, str)
        and 0 < len(term.encode("utf-8", "surrogatepass")) <= _MAX_TERM_BYTES
        and not _WHITESPACE.search(term)
    )


def _check_chunk_id(chunk_id: object) -> str:
    if not isinstance(chunk_id, str) or not _CHUNK_ID.fullmatch(chunk_id):
        raise InvalidInput(f"Invalid chunk id {chunk_id!r}: expected <document id>:<position>.")
    return chunk_id


def _check_terms(terms: Mapping[str, int]) -> dict[str, int]:
    if len(terms) > _MAX_TERMS_PER_CHUNK:
        raise InvalidInput(f"A chunk may have at most {_MAX_TERMS_PER_CHUNK} distinct terms.")
    checked: dict[str, int] = {}
    for term, tf in terms.items():
        if not _valid_term(term):
            raise InvalidInput(
                f"Invalid index term {str(term)[:40]!r}: 1-{_MAX_TERM_BYTES} bytes, no spaces."
            )
        if isinstance(tf, bool) or not isinstance(tf, int) or not 0 < tf < 2**31:
            raise InvalidInput(f"Invalid frequency {tf!r} for term {term[:40]!r}.")
        checked[term] = tf
    return checked
