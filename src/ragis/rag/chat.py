"""One chat turn, as a stream of typed events.

    meta -> citations -> token* -> done        (or `error` at any point, then the end)

The pipeline: (rewrite a follow-up into a standalone query) -> embed -> semantic-cache lookup ->
VSIM top-k -> prompt with numbered sources -> stream the LLM -> store the turn in the session ->
cache the answer. `prepare()` does the checks that can still become an HTTP 4xx; `events()` runs
the rest after the response has started, so its failures become `error` events.

Nothing partial is kept: the session and the cache are written only after the answer is complete.
A client that disconnects cancels the generator, which closes the LLM stream at once.

What crosses a boundary is refused: a session is bound to its collection (a request naming
another is a 409 from `prepare()`); a follow-up, whose answer leans on the conversation, is
neither served from the cache nor cached; a cached answer serves only a question with the same
retrieval signature (filter, top_k, mode; `cache_scope`) and the same exact terms and names
(`question_terms`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from redis.exceptions import RedisError

from ragis.embedding import Embedder
from ragis.errors import InvalidInput, RagisError, SessionMismatch, TooLarge
from ragis.llm.base import LLMProvider
from ragis.rag.cache_scope import retrieval_signature
from ragis.rag.prompt import (
    PROMPT_VERSION,
    answer_messages,
    retrieval_only_answer,
    rewrite_messages,
)
from ragis.rag.question_terms import agree, question_terms
from ragis.rag.settings import RagSettings
from ragis.store import (
    Citation,
    Message,
    Retrieval,
    RetrievedChunk,
    SearchFilter,
    Store,
    Vector,
    check_name,
)
from ragis.store.models import CollectionInfo
from ragis.timing import elapsed_ms

__all__ = ["ChatEvent", "ChatService", "ChatTurn"]

log = logging.getLogger("ragis.chat")

ChatEvent = tuple[str, dict[str, Any]]


@dataclass(slots=True)
class ChatTurn:
    message: str
    session_id: str
    collection: CollectionInfo
    top_k: int
    flt: SearchFilter
    new_session: bool = False
    timings: dict[str, float] = field(default_factory=dict)


class ChatService:
    def __init__(
        self,
        store: Store,
        embedder: Embedder,
        llm: LLMProvider | None,
        settings: RagSettings,
    ) -> None:
        self._store = store
        self._embedder = embedder
        self._llm = llm
        self._settings = settings

    @property
    def provider_name(self) -> str:
        return self._llm.name if self._llm else "none"

    @property
    def model_name(self) -> str | None:
        return self._llm.model if self._llm else None

    async def prepare(
        self,
        message: str,
        *,
        session_id: str | None = None,
        collection: str | None = None,
        top_k: int | None = None,
        flt: SearchFilter | None = None,
    ) -> ChatTurn:
        """Check the request before any byte of the answer is sent (errors become 4xx)."""
        text = message.strip()
        if not text:
            raise InvalidInput("The message is empty: type a question.")
        if len(text) > self._settings.max_message_chars:
            raise TooLarge(
                f"The message has {len(text)} characters; the limit is "
                f"{self._settings.max_message_chars} (RAGIS_MAX_MESSAGE_CHARS)."
            )
        sid = check_name(session_id, "session id", long=True) if session_id else uuid.uuid4().hex
        info = await self._store.collections.require(
            collection or self._settings.default_collection
        )
        if session_id:
            bound = await self._store.sessions.collection_of(sid)
            if bound is not None and bound != info.name:
                raise SessionMismatch.for_collection(info.name)
        return ChatTurn(
            message=text,
            session_id=sid,
            collection=info,
            top_k=top_k or self._settings.top_k,
            flt=flt or SearchFilter(),
            new_session=not session_id,
        )

    async def events(self, turn: ChatTurn) -> AsyncIterator[ChatEvent]:
        """The turn's events; an error ends the stream with an `error` event."""
        started = time.perf_counter()
        try:
            async for event in self._run(turn, started):
                yield event
        except RagisError as exc:
            yield "error", {"code": exc.code, "message": exc.message}
        except RedisError as exc:
            log.warning("Redis failed during a chat turn: %s", exc)
            yield (
                "error",
                {
                    "code": "redis_unavailable",
                    "message": f"Redis did not answer ({type(exc).__name__}); try again shortly.",
                },
            )
        except Exception:
            log.exception("chat turn failed")
            yield (
                "error",
                {
                    "code": "internal_error",
                    "message": "ragis hit an unexpected error while answering; see the log.",
                },
            )

    async def _run(self, turn: ChatTurn, started: float) -> AsyncIterator[ChatEvent]:
        store, settings, llm = self._store, self._settings, self._llm
        timings = turn.timings
        name = turn.collection.name
        # A new session has no history: no read (on a cluster its slot may even be down).
        history = (
            await store.sessions.history(turn.session_id, limit=settings.history_messages)
            if settings.history_messages and not turn.new_session
            else []
        )
        query = turn.message
        # A follow-up's answer leans on the conversation (its history goes into the prompt),
        # and its rewrite on the LLM's reading of it: neither is another session's to reuse.
        cacheable = not history
        if history and llm is not None and settings.rewrite_followups:
            t = time.perf_counter()
            rewritten = await llm.complete(
                rewrite_messages(turn.message, history), temperature=0.0, max_tokens=200
            )
            timings["rewrite"] = elapsed_ms(t)
            query = _clean_rewrite(rewritten) or turn.message

        t = time.perf_counter()
        vector = (await self._embedder.embed([query]))[0]
        timings["embed"] = elapsed_ms(t)

        model_key = f"{llm.name}:{llm.model}" if llm else "none"
        use_cache = settings.cache_enabled and cacheable and llm is not None
        version = turn.collection.version
        signature = retrieval_signature(turn.flt, turn.top_k)
        terms = question_terms(query)
        # The search starts at once, alongside the cache lookup: on a miss (the common case)
        # its round trips overlap the lookup's instead of following them. A hit leaves it to
        # finish unused.
        search = asyncio.ensure_future(self._search(turn, vector))
        if use_cache:
            t = time.perf_counter()
            try:
                hit = await store.cache.lookup(
                    name, vector, version=version, model=model_key, prompt_version=PROMPT_VERSION,
                    retrieval=signature, terms=terms.key,
                    accept=lambda cached: agree(terms, question_terms(cached)),
                )  # fmt: skip
            except BaseException:
                _abandon(search)
                raise
            timings["cache"] = elapsed_ms(t)
            if hit is not None:
                _abandon(search)
                yield "meta", self._meta(turn, cache_hit=True, query=query, partial=False)
                yield "citations", {"citations": [c.to_dict() for c in hit.citations]}
                timings["first_token"] = elapsed_ms(started)
                yield "token", {"text": hit.answer}
                await self._remember(turn, hit.answer, hit.citations, cache_hit=True)
                timings["total"] = elapsed_ms(started)
                yield "done", {"timings": dict(timings), "cache_hit": True}
                return
        else:
            timings["cache"] = 0.0

        retrieval = await search
        found = retrieval.chunks
        citations = tuple(_citation(n, r) for n, r in enumerate(found, start=1))
        # A search that missed a shard is not the corpus's answer: never cache it.
        use_cache = use_cache and not retrieval.partial
        yield "meta", self._meta(turn, cache_hit=False, query=query, partial=retrieval.partial)
        yield "citations", {"citations": [c.to_dict() for c in citations]}

        if llm is None:
            answer = retrieval_only_answer(found)
            timings["first_token"] = elapsed_ms(started)
            yield "token", {"text": answer}
        else:
            parts: list[str] = []
            stream = llm.stream(
                answer_messages(turn.message, found, history),
                max_tokens=settings.max_answer_tokens,
            )
            async with _closing(stream) as deltas:
                async for delta in deltas:
                    if not parts:
                        timings["first_token"] = elapsed_ms(started)
                    parts.append(delta)
                    yield "token", {"text": delta}
            answer = "".join(parts)
            if not parts:
                timings["first_token"] = elapsed_ms(started)

        await self._remember(turn, answer, citations, cache_hit=False)
        if use_cache and answer.strip():
            await store.cache.store(
                name, vector, question=query, answer=answer, citations=citations,
                version=version, model=model_key, prompt_version=PROMPT_VERSION,
                retrieval=signature, terms=terms.key,
            )  # fmt: skip
        timings["total"] = elapsed_ms(started)
        yield "done", {"timings": dict(timings), "cache_hit": False}

    async def _search(self, turn: ChatTurn, vector: Vector) -> Retrieval:
        t = time.perf_counter()
        try:
            return await self._store.retriever.retrieve(
                turn.collection, vector, k=turn.top_k, flt=turn.flt or None
            )
        finally:
            turn.timings["search"] = elapsed_ms(t)

    def _meta(
        self, turn: ChatTurn, *, cache_hit: bool, query: str, partial: bool = False
    ) -> dict[str, Any]:
        return {
            "session_id": turn.session_id,
            "collection": turn.collection.name,
            "provider": self.provider_name,
            "model": self.model_name,
            "cache_hit": cache_hit,
            "query": query,
            "partial": partial,
        }

    async def _remember(
        self, turn: ChatTurn, answer: str, citations: tuple[Citation, ...], *, cache_hit: bool
    ) -> None:
        now = time.time()
        try:
            await self._append(turn, answer, citations, cache_hit=cache_hit, now=now)
        except RedisError as exc:
            # The answer was delivered; losing its place in the history must not turn it into
            # an error (on a cluster, the session's node may be the one that is down).
            log.warning("could not store session %s: %s", turn.session_id, exc)

    async def _append(
        self,
        turn: ChatTurn,
        answer: str,
        citations: tuple[Citation, ...],
        *,
        cache_hit: bool,
        now: float,
    ) -> None:
        await self._store.sessions.append(
            turn.session_id,
            [
                Message("user", turn.message, now),
                Message(
                    "assistant", answer, now, citations,
                    extra={"cache_hit": cache_hit, "model": self.model_name},
                ),
            ],
            collection=turn.collection.name,
        )  # fmt: skip


def _abandon(task: asyncio.Future[Any]) -> None:
    """Let a task whose result is no longer wanted finish on its own, its error unraised
    (cancelling a Redis command midway would cost the connection)."""
    task.add_done_callback(lambda done: done.cancelled() or done.exception())


@contextlib.asynccontextmanager
async def _closing(stream: AsyncIterator[str]) -> AsyncGenerator[AsyncIterator[str], None]:
    """Close the provider's stream however the loop ends (done, error, or cancelled)."""
    try:
        yield stream
    finally:
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            await aclose()


def _citation(n: int, found: RetrievedChunk) -> Citation:
    return Citation(
        n=n,
        doc_id=found.chunk.doc_id,
        filename=found.filename,
        page=found.chunk.page,
        score=round(found.score, 4),
        text=found.chunk.text,
    )


def _clean_rewrite(text: str) -> str:
    line = text.strip().strip('"').strip()
    return line.splitlines()[0].strip() if line else ""
