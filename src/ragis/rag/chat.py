"""One chat turn, as a stream of typed events.

    meta -> citations -> token* -> done        (or `error` at any point, then the end)

The pipeline: (rewrite a follow-up into a standalone query) -> embed -> semantic-cache lookup ->
VSIM top-k -> prompt with numbered sources -> stream the LLM -> store the turn in the session ->
cache the answer. `prepare()` does the checks that can still become an HTTP 4xx; `events()` runs
the rest after the response has started, so its failures become `error` events.

Every turn of a session is kept in it, with its answer's details (meta's model, retrieval,
best_score, scope, grounded; the timings): a complete answer; a stopped one (the client went
away: the generator is cancelled, which closes the LLM stream at once, and the turn is stored
with what was streamed so far and `stopped`, in a write the cancellation cannot interrupt); a
failed one (an `error` event), with its error and any partial text, so that a conversation whose
first answer broke still exists. Only a complete answer enters the semantic cache.

Every turn works in the caller's workspace (its store: every key, the cache's included, is that
workspace's) and as the caller's user. What crosses a boundary is refused: a session belongs to
the user who started it (another user's is a 404 from `prepare()`, as if it did not exist) and
is bound to its collection (a request naming another is a 409); a follow-up, whose answer
leans on the conversation, is neither served from the cache nor cached; a cached answer serves
only a question with the same retrieval signature (filter, top_k, mode; `cache_scope`) and the
same exact terms and names (`question_terms`).

A turn may instead carry its conversation inline (`history`, as OpenAI-style clients keep it):
it is then stateless, no session is read or written and `meta.session_id` is null; its history
is used exactly like a session's (the rewrite, the prompt, never cached when not empty). A turn
may also ask for a `temperature` (the answer's sampling only: the rewrite stays at 0) and fewer
`max_tokens` than RAGIS_MAX_ANSWER_TOKENS. An answer cut shorter is not another turn's answer:
such a cap is part of the cache scope. The temperature is not: a cached answer is one sample of
the model's answers, and serving it to a turn that asked for another temperature is what the
cache does for every repeated question. A turn may name another `model` the provider lists
(rag/models.py): its rewrite and answer come from that model, which keys its cache entries and
is the answer's `meta.model`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio

from ragis.contract.caller import DEFAULT_WORKSPACE, LOCAL_USER, Caller
from ragis.embedding import Embedder
from ragis.embedding.registry import Embedders
from ragis.errors import (
    InvalidInput,
    NotFound,
    RagisError,
    RedisUnavailable,
    SessionMismatch,
)
from ragis.llm.base import LLMProvider
from ragis.rag import whole_document
from ragis.rag.cache_scope import retrieval_signature
from ragis.rag.grounding import Grounding, ground_cited
from ragis.rag.models import ModelCatalog
from ragis.rag.prompt import (
    PROMPT_VERSION,
    answer_messages,
    not_found_answer,
    retrieval_only_answer,
    rewrite_messages,
)
from ragis.rag.question_terms import agree, question_terms
from ragis.rag.search import Found, checked_text, find, retrieval_mode
from ragis.rag.settings import RagSettings
from ragis.store import (
    NO_FILTER,
    Citation,
    DocumentRecord,
    Message,
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
T = TypeVar("T")

#: Who a turn is for when the caller names nobody (the local single user, as before workspaces).
_LOCAL = Caller(DEFAULT_WORKSPACE, LOCAL_USER)


@dataclass(frozen=True, slots=True)
class ChatTurn:
    """A request `ChatService.prepare` has checked: what `events()` answers."""

    message: str
    #: None: a stateless turn (its history came inline), whose session nobody keeps.
    session_id: str | None
    collection: CollectionInfo
    top_k: int
    #: The store of the caller's workspace, and the caller's user (the session's owner).
    store: Store
    user: str
    flt: SearchFilter = NO_FILTER
    new_session: bool = False
    #: The retrieval mode asked for (store/retrieval.py `MODES`).
    mode: str = "hybrid"
    #: The one document a question about a whole document reads (rag/whole_document.py).
    document: DocumentRecord | None = None
    #: The conversation a stateless turn carries (already trimmed); None: the session's.
    history: tuple[Message, ...] | None = None
    #: The answer's sampling temperature; None: the provider's default.
    temperature: float | None = None
    #: Fewer answer tokens than RAGIS_MAX_ANSWER_TOKENS; None: that limit.
    max_tokens: int | None = None
    #: Another LLM model than the provider's (checked against its list); None: its own.
    model: str | None = None
    #: Not answered from the semantic cache (a retry asks the LLM again).
    fresh: bool = False


@dataclass(slots=True)
class _Told:
    """What a turn's stream has told so far: what the turn is stored with, however it ends."""

    meta: dict[str, Any] | None = None
    citations: tuple[Citation, ...] = ()
    parts: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    #: The turn is in its session (a later failure must not store it twice).
    stored: bool = False


@dataclass(frozen=True, slots=True)
class _CacheScope:
    """What, besides a close question, a cached answer must share to serve this turn."""

    version: int
    model: str
    retrieval: str
    terms: str
    prompt_version: str = PROMPT_VERSION


@dataclass(frozen=True, slots=True)
class _Answer:
    """A turn's answer as the events tell it, whether from the cache or from a search."""

    query: str
    citations: tuple[Citation, ...]
    tokens: AsyncIterator[str]
    cache_hit: bool = False
    partial: bool = False
    #: Where to cache the complete answer; None: not at all (a hit, a follow-up, a partial search).
    cache_in: _CacheScope | None = None
    #: The mode that found the passages (a cached answer: the mode asked for).
    mode: str = "hybrid"
    grounding: Grounding | None = None
    scope: str = "passages"


class ChatService:
    def __init__(
        self,
        store: Store,
        embedders: Embedders | Embedder,
        llm: LLMProvider | None,
        settings: RagSettings,
    ) -> None:
        self._store = store
        self._embedders = Embedders.of(embedders)
        self._llm = llm
        self._settings = settings
        self.catalog = ModelCatalog(llm)

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
        flt: SearchFilter = NO_FILTER,
        caller: Caller = _LOCAL,
        retrieval: str | None = None,
        history: Sequence[Message] | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        model: str | None = None,
        fresh: bool = False,
    ) -> ChatTurn:
        """Check the request before any byte of the answer is sent (errors become 4xx).

        `history` (not None, even empty) makes the turn stateless: it cannot name a session.
        Its last RAGIS_HISTORY_MESSAGES are used, each cut to RAGIS_MAX_MESSAGE_CHARS, as a
        session's would be. `temperature` goes to the answer's LLM call; `max_tokens` lowers
        RAGIS_MAX_ANSWER_TOKENS for this answer (and then keys its cache entry), never raises it.
        `model` must be one the provider lists (`UnknownModel`); it keys the cache too. A
        `fresh` turn skips the cache lookup (its answer is still cached).
        """
        settings = self._settings
        if history is not None and session_id:
            raise InvalidInput(
                "A turn carries either its conversation (history) or a session_id, not both: "
                "leave out session_id to send the history yourself."
            )
        store = self._store.scoped(caller.workspace)
        mode = retrieval_mode(retrieval, settings)
        text = checked_text(
            message, settings.max_message_chars, what="message",
            empty="The message is empty: type a question.",
        )  # fmt: skip
        stateless = history is not None
        sid = (
            None
            if stateless
            else check_name(session_id, "session id", long=True)
            if session_id
            else uuid.uuid4().hex
        )
        info = await store.collections.require(collection or settings.default_collection)
        if session_id and sid is not None:
            bound = await store.sessions.binding(sid)
            if bound is not None and bound.owner != caller.user:
                raise NotFound(f"There is no session {sid!r}: leave out session_id to start one.")
            if bound is not None and bound.collection != info.name:
                raise SessionMismatch.for_collection(info.name)
            if bound is not None and not bound.started_in(info.created):
                # Its collection was deleted and another made under its name: the conversation
                # cites documents that are gone, and its history is not this collection's.
                raise NotFound(
                    f"There is no session {sid!r}: its collection was deleted. Leave out "
                    "session_id to start a new conversation."
                )
        document = await whole_document.whole_document_of(store, info, flt, text)
        # The provider's own model by name is the turn that names none (same cache entries).
        chosen = (
            await self.catalog.check(model)
            if model is not None and (self._llm is None or model != self._llm.model)
            else None
        )
        cap = settings.max_answer_tokens
        return ChatTurn(
            message=text,
            session_id=sid,
            collection=info,
            top_k=top_k or settings.top_k,
            store=store,
            user=caller.user,
            flt=flt,
            new_session=not session_id and not stateless,
            mode=mode,
            document=document,
            history=_trimmed(history, settings) if history is not None else None,
            temperature=temperature,
            # At the limit, the turn is answered as one that asked for nothing (same cache).
            max_tokens=max_tokens if max_tokens is not None and max_tokens < cap else None,
            model=chosen,
            fresh=fresh,
        )

    async def events(self, turn: ChatTurn) -> AsyncGenerator[ChatEvent, None]:
        """The turn's events; an error ends the stream with an `error` event. A failed or
        stopped turn is stored as far as it went (the error before its event is sent)."""
        started = time.perf_counter()
        told = _Told()
        error: dict[str, str]
        try:
            async with contextlib.aclosing(self._run(turn, started, told)) as run:
                async for event in run:
                    yield event
            return
        except RagisError as exc:
            if isinstance(exc, RedisUnavailable):
                log.warning("Redis failed during a chat turn: %s", exc.__cause__ or exc)
            error = {"code": exc.code, "message": exc.message}
        except (asyncio.CancelledError, GeneratorExit):
            # The client went away. Shielded: the cancellation repeats at every await of the
            # cancelled scope, and would cut the write short.
            with anyio.CancelScope(shield=True):
                await self._remember_quietly(turn, told, stopped=True)
            raise
        except Exception:
            log.exception("chat turn failed")
            error = {
                "code": "internal_error",
                "message": "ragis hit an unexpected error while answering; see the log.",
            }
        await self._remember_quietly(turn, told, error=error)
        yield "error", error

    async def _run(
        self, turn: ChatTurn, started: float, told: _Told
    ) -> AsyncGenerator[ChatEvent, None]:
        """Find the answer (the cache's or a search's), then tell it: one path for both.
        `told` follows what was told, for a turn that ends before its end."""
        settings = self._settings
        timings = told.timings
        # A new session has no history: no read (on a cluster its slot may even be down).
        history: Sequence[Message] = (
            turn.history
            if turn.history is not None
            else await turn.store.sessions.history(
                turn.session_id, limit=settings.history_messages, user=turn.user
            )
            if settings.history_messages and turn.session_id and not turn.new_session
            else []
        )
        query = turn.message
        if history and self._llm is not None and settings.rewrite_followups and not turn.document:
            rewrite = rewrite_messages(turn.message, history)
            rewritten, timings["rewrite"] = await _timed(
                self._llm.with_model(turn.model or self._llm.model).complete(
                    rewrite, temperature=0.0, max_tokens=200
                )
            )
            query = _clean_rewrite(rewritten) or turn.message
        # The model the collection's vectors came from (ModelUnavailable if this service
        # cannot embed with it: an error event, before anything else is told).
        info = turn.collection
        embedder = await self._embedders.get(info.model, collection=info.name)
        embedded, timings["embed"] = await _timed(embedder.embed([query]))
        vector = embedded[0]
        answer = await self._find(turn, query, vector, history, timings)

        told.meta = self._meta(turn, answer)
        told.citations = answer.citations
        yield "meta", told.meta
        yield "citations", {"citations": [c.to_dict() for c in answer.citations]}
        parts = told.parts
        async with _closing(answer.tokens) as tokens:
            async for text in tokens:
                if not parts:
                    timings["first_token"] = elapsed_ms(started)
                parts.append(text)
                yield "token", {"text": text}
        if not parts:
            timings["first_token"] = elapsed_ms(started)
        text = "".join(parts)
        timings["total"] = elapsed_ms(started)  # what is stored is what `done` tells
        await self._remember(turn, told)
        if answer.cache_in is not None and text.strip():
            scope = answer.cache_in
            await turn.store.cache.store(
                turn.collection.name, vector, question=query, answer=text,
                citations=answer.citations, version=scope.version, model=scope.model,
                prompt_version=scope.prompt_version, retrieval=scope.retrieval, terms=scope.terms,
            )  # fmt: skip
        yield "done", {"timings": timings, "cache_hit": answer.cache_hit}

    async def _find(
        self,
        turn: ChatTurn,
        query: str,
        vector: Vector,
        history: Sequence[Message],
        timings: dict[str, float],
    ) -> _Answer:
        """A cached answer when one serves this turn, else a search and the LLM's answer
        (`timings` gets `cache` and, on a miss, `search`)."""
        if turn.document is not None:  # a question about the whole document: never cached
            return await self._whole_document(turn, turn.document, query, history, timings)
        # A follow-up's answer leans on the conversation (its history goes into the prompt),
        # and its rewrite on the LLM's reading of it: neither is another session's to reuse.
        terms = question_terms(query)
        scope = (
            self._cache_scope(turn, terms.key)
            if self._settings.cache_enabled and not history and self._llm is not None
            else None
        )
        # The search starts at once, alongside the cache lookup: on a miss (the common case)
        # its round trips overlap the lookup's instead of following them. A hit leaves it to
        # finish unused.
        search = asyncio.ensure_future(
            _timed(
                find(
                    turn.store, turn.collection, vector, query, self._settings, top_k=turn.top_k,
                    flt=turn.flt, mode=turn.mode,
                )
            )
        )  # fmt: skip
        timings["cache"] = 0.0
        if scope is not None and not turn.fresh:
            try:
                hit, timings["cache"] = await _timed(
                    turn.store.cache.lookup(
                        turn.collection.name, vector, version=scope.version, model=scope.model,
                        prompt_version=scope.prompt_version, retrieval=scope.retrieval,
                        terms=scope.terms,
                        accept=lambda cached: agree(terms, question_terms(cached)),
                    )
                )  # fmt: skip
            except BaseException:
                _abandon(search)
                raise
            if hit is not None:
                _abandon(search)
                return _Answer(
                    query, hit.citations, _once(hit.answer), cache_hit=True, mode=turn.mode,
                    grounding=ground_cited(hit.citations),
                )  # fmt: skip
        result: Found
        result, timings["search"] = await search
        found, grounding = result.chunks, result.grounding
        return _Answer(
            query,
            tuple(_citation(n, r) for n, r in enumerate(found, start=1)),
            self._generate(turn, found, history)
            if grounding.grounded
            else _once(not_found_answer(found, grounding.missing, llm=self._llm is not None)),
            partial=result.partial,
            # A search that missed a shard is not the corpus's answer, and a refusal is no
            # answer to reuse: neither is cached.
            cache_in=None if result.partial or not grounding.grounded else scope,
            mode=result.mode,
            grounding=grounding,
        )

    async def _whole_document(
        self,
        turn: ChatTurn,
        document: DocumentRecord,
        query: str,
        history: Sequence[Message],
        timings: dict[str, float],
    ) -> _Answer:
        """The document read in order (rag/whole_document.py), not its top-k passages."""
        budget = self._settings.document_context_chars
        context, timings["search"] = await _timed(
            whole_document.read_document(
                turn.store, turn.collection, document, budget, llm=self._llm is not None
            )
        )
        tokens = whole_document.answer(
            self._llm_of(turn), context, turn.message, history,
            max_tokens=self._answer_tokens(turn), timings=timings, temperature=turn.temperature,
        )  # fmt: skip
        # The user picked the document: the grounded gate does not apply.
        grounding = Grounding(True, None, 0.0)
        return _Answer(
            query, context.citations(), tokens, mode=turn.mode, grounding=grounding,
            scope="document",
        )  # fmt: skip

    def _answer_tokens(self, turn: ChatTurn) -> int:
        return turn.max_tokens or self._settings.max_answer_tokens

    def _llm_of(self, turn: ChatTurn) -> LLMProvider | None:
        """The provider, asking for the model the turn chose."""
        if self._llm is None or turn.model is None:
            return self._llm
        return self._llm.with_model(turn.model)

    def _cache_scope(self, turn: ChatTurn, terms: str) -> _CacheScope:
        llm = self._llm_of(turn)
        model = f"{llm.name}:{llm.model}" if llm else "none"
        # A shorter answer is made under a tighter limit: it keys its entry (the model's
        # attribute, so that entries made without a limit keep their key and stay valid).
        if turn.max_tokens is not None:
            model += f"|max_tokens={turn.max_tokens}"
        return _CacheScope(
            version=turn.collection.version,
            model=model,
            retrieval=retrieval_signature(turn.flt, turn.top_k, turn.mode),
            terms=terms,
        )

    async def _generate(
        self, turn: ChatTurn, found: Sequence[RetrievedChunk], history: Sequence[Message]
    ) -> AsyncIterator[str]:
        """The answer from the passages found: the LLM's, streamed, or the passages themselves."""
        llm = self._llm_of(turn)
        if llm is None:
            # The notice says why there is no written answer: once, in a conversation's first.
            yield retrieval_only_answer(found, notice=not history)
            return
        stream = llm.stream(
            answer_messages(turn.message, found, history),
            temperature=turn.temperature,
            max_tokens=self._answer_tokens(turn),
        )
        async with _closing(stream) as deltas:
            async for delta in deltas:
                yield delta

    def _meta(self, turn: ChatTurn, answer: _Answer) -> dict[str, Any]:
        return {
            "session_id": turn.session_id,
            "collection": turn.collection.name,
            "provider": self.provider_name,
            "model": turn.model or self.model_name,
            "cache_hit": answer.cache_hit,
            "query": answer.query,
            "partial": answer.partial,
            "retrieval": answer.mode,
            "grounded": answer.grounding.grounded if answer.grounding else True,
            "best_score": (
                round(answer.grounding.best_score, 4)
                if answer.grounding and answer.grounding.best_score is not None
                else None
            ),
            "scope": answer.scope,
        }

    async def _remember(
        self,
        turn: ChatTurn,
        told: _Told,
        *,
        stopped: bool = False,
        error: dict[str, str] | None = None,
    ) -> None:
        """Store the turn in its session: the question, and the answer as far as it was told,
        with its details (and `stopped` or `error` when it did not end)."""
        if turn.session_id is None or told.stored:  # stateless: the client keeps it
            return
        told.stored = True
        now = time.time()
        meta = told.meta or {}
        details: dict[str, Any] = {
            key: meta[key]
            for key in ("cache_hit", "model", "grounded", "retrieval", "best_score", "scope")
            if key in meta
        }
        details["timings"] = dict(told.timings)
        if stopped:
            details["stopped"] = True
        if error is not None:
            details["error"] = error
        try:
            await turn.store.sessions.append(
                turn.session_id,
                [
                    Message("user", turn.message, now),
                    Message("assistant", "".join(told.parts), now, told.citations, extra=details),
                ],
                collection=turn.collection.name,
                user=turn.user,
                collection_created=turn.collection.created,
            )
        except RedisUnavailable as exc:
            # The answer was delivered; losing its place in the history must not turn it into
            # an error (on a cluster, the session's node may be the one that is down).
            log.warning("could not store session %s: %s", turn.session_id, exc.__cause__ or exc)

    async def _remember_quietly(
        self, turn: ChatTurn, told: _Told, *, stopped: bool = False,
        error: dict[str, str] | None = None,
    ) -> None:  # fmt: skip
        """`_remember` for a turn that is ending anyway: a refusal is logged, not raised."""
        try:
            await self._remember(turn, told, stopped=stopped, error=error)
        except RagisError as exc:
            log.warning("could not store the turn of session %s: %s", turn.session_id, exc)


async def _timed(work: Awaitable[T]) -> tuple[T, float]:
    """`work`'s result and how long it took, in ms."""
    t = time.perf_counter()
    result = await work
    return result, elapsed_ms(t)


async def _once(text: str) -> AsyncIterator[str]:
    """A whole answer as a stream of one piece (a cached or a retrieval-only answer)."""
    yield text


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
        legs=found.legs,
        locator=found.chunk.locator,
    )


def _clean_rewrite(text: str) -> str:
    line = text.strip().strip('"').strip()
    return line.splitlines()[0].strip() if line else ""


def _trimmed(history: Sequence[Message], settings: RagSettings) -> tuple[Message, ...]:
    """An inline conversation as a session's would be read: its last RAGIS_HISTORY_MESSAGES,
    each cut to RAGIS_MAX_MESSAGE_CHARS (a long pasted answer must not fill the prompt)."""
    keep = settings.history_messages
    limit = settings.max_message_chars
    recent = history[-keep:] if keep else ()
    return tuple(
        m if len(m.content) <= limit else Message(m.role, m.content[:limit], m.time) for m in recent
    )
