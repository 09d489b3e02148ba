"""The semantic cache: answers of earlier questions, found by the similarity of the questions.

Each collection has a vector set of cached question embeddings (NOQUANT: the hit threshold is a
fine line, so no quantization error near it) whose elements carry `{v, m, p, r, x}`: the
collection version, LLM model and prompt version the answer was made with, the signature of
the retrieval that found its sources (filter, top_k, retrieval mode: `r`) and a hash of the
question's exact terms (numbers, dates, quoted strings, identifiers, negation: `x`). The answer
and its citations sit in a plain key with a TTL. A lookup is a hit only when the cosine
similarity reaches the threshold and all five attributes match (a `FILTER`), so an answer is
never served to a request whose retrieval would have differed (another filter or top_k, an
older corpus, another model or prompt) nor to a question that differs in a number or a name
similarity cannot see; the caller may also refuse a candidate by its question (`accept`). An
element whose answer key has expired is removed when a lookup meets it.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Sequence

from ragis.db.client import RedisClient
from ragis.store.codec import text_of, to_blob
from ragis.store.failures import speaks_redis
from ragis.store.keys import Keys
from ragis.store.models import CachedAnswer, Citation, Vector
from ragis.store.vectors import parse_vsim

__all__ = ["SemanticCache"]

_CANDIDATES = 4


@speaks_redis
class SemanticCache:
    def __init__(self, redis: RedisClient, keys: Keys, *, threshold: float, ttl: int) -> None:
        self._redis = redis
        self._keys = keys
        self.threshold = threshold
        self.ttl = ttl

    async def lookup(
        self,
        collection: str,
        vector: Vector,
        *,
        version: int,
        model: str,
        prompt_version: str,
        retrieval: str,
        terms: str,
        accept: Callable[[str], bool] | None = None,
    ) -> CachedAnswer | None:
        """The best cached answer for this scope, if similar enough and `accept`ed by its
        question (checks the filter cannot express)."""
        ck = self._keys.collection(collection)
        attrs = _attributes(version, model, prompt_version, retrieval, terms)
        # json.dumps keeps every value a string literal: none can change the expression.
        expr = " and ".join(f".{name} == {json.dumps(value)}" for name, value in attrs.items())
        reply = await self._redis.execute_command(
            "VSIM", ck.cache, "FP32", to_blob(vector), "WITHSCORES",
            "COUNT", _CANDIDATES, "FILTER", expr,
        )  # fmt: skip
        # VSIM scores are (1 + cosine) / 2; the threshold is a cosine.
        candidates = [
            (hit.id, 2.0 * hit.score - 1.0)
            for hit in parse_vsim(reply)
            if 2.0 * hit.score - 1.0 >= self.threshold
        ]
        if not candidates:
            return None
        entries = await self._redis.mget([ck.cache_entry(eid) for eid, _ in candidates])
        expired = [eid for (eid, _), raw in zip(candidates, entries, strict=True) if raw is None]
        if expired:
            await self._redis.execute_command("VREM", ck.cache, *expired[:1])
            for eid in expired[1:]:
                await self._redis.execute_command("VREM", ck.cache, eid)
        for (eid, similarity), raw in zip(candidates, entries, strict=True):
            if raw is None:
                continue
            data = json.loads(text_of(raw))
            if accept is not None and not accept(str(data["question"])):
                continue
            return CachedAnswer(
                entry_id=eid,
                question=str(data["question"]),
                answer=str(data["answer"]),
                citations=tuple(Citation.from_dict(c) for c in data["citations"]),
                model=str(data["model"]),
                created=float(data["created"]),
                similarity=similarity,
            )
        return None

    async def store(
        self,
        collection: str,
        vector: Vector,
        *,
        question: str,
        answer: str,
        citations: Sequence[Citation],
        version: int,
        model: str,
        prompt_version: str,
        retrieval: str,
        terms: str,
    ) -> str | None:
        """Cache an answer made at collection `version`; skipped if the corpus moved on since."""
        ck = self._keys.collection(collection)
        current = await self._redis.hget(ck.meta, "version")
        if current is not None and int(current) != version:
            return None
        entry_id = uuid.uuid4().hex
        payload = {
            "question": question,
            "answer": answer,
            "citations": [c.to_dict() for c in citations],
            "model": model,
            "created": time.time(),
        }
        attrs = _attributes(version, model, prompt_version, retrieval, terms)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(ck.cache_entry(entry_id), json.dumps(payload, ensure_ascii=False), ex=self.ttl)
            pipe.execute_command(
                "VADD", ck.cache, "FP32", to_blob(vector), entry_id, "NOQUANT",
                "SETATTR", json.dumps(attrs, separators=(",", ":")),
            )  # fmt: skip
            await pipe.execute()
        return entry_id

    async def clear(self, collection: str) -> None:
        await self._redis.delete(self._keys.collection(collection).cache)


def _attributes(
    version: int, model: str, prompt_version: str, retrieval: str, terms: str
) -> dict[str, int | str]:
    """What must be equal for a cached answer to serve a request, as the element's attributes."""
    return {"v": int(version), "m": model, "p": prompt_version, "r": retrieval, "x": terms}
