"""Questions about a whole document: a summary, an overview, its key points.

Top-k passages are the wrong context for "summarise this document": they are the passages most
like the question, from anywhere. So when a turn is restricted to exactly one document (a
`filter` with one `doc_ids` entry and no tags, which is what picking a document in the UI
sends) and its question asks about the document as a whole, the model reads the document
itself, in order, and `meta.scope` is `"document"`:

- **It fits** `RAGIS_DOCUMENT_CONTEXT_CHARS` (default 10,000 characters, about 2,500-3,000
  tokens: a 4k-token model keeps room for the answer's tokens; raise it for a bigger one): one
  streamed answer from its passages in order.
- **It does not** (map-reduce): the passages, in order, are cut into parts of at most that
  many characters; each part is summarised by one `llm.complete` (sequential, never shown to
  the client), then the answer is streamed from the parts' summaries in order. At most
  `MAX_PARTS` parts are read: a longer document is answered from its beginning, and the answer
  says so first ("This document is long: only its first 8 parts were read (120 of its 900
  passages, up to page 31)..."). Each part costs one LLM call
  before the first token: up to `MAX_PARTS` calls on a long document.
- **Without an LLM** (retrieval-only): the answer is the document's passages in order, as many
  as the budget holds, and says whether that is the whole text or its beginning.

Which questions: English phrasings only, matched on the question as typed (`asks_about_whole`):
summary / summarise / summarize / sum up, overview, outline, synopsis, gist, recap, tl;dr,
"what is this document about", key / main points (ideas, takeaways, findings...). Any other
language, or a question about one topic of the document ("what does it say about X?"), is
answered from the top-k passages as before. A follow-up is detected on its own words ("and
summarise it"): a whole-document turn skips the rewrite, which only retrieval would use.

Design points:

- **Citations**: not one per passage (a 50-page document has hundreds). Passages given directly
  are grouped, consecutive ones together, into at most `MAX_SOURCES` numbered sources; in
  map-reduce each part is one source. A citation carries its first page, the opening
  `CITATION_CHARS` characters of its text, and `score` 0 with no legs: no similarity to the
  question was measured, the user picked the document.
- **Prompts** (rag/prompt.py `document_messages`, `part_messages`): passages, and the model's own
  part summaries, go through `format_sources`, so they stay data that cannot close their
  delimiters.
- **Grounded**: always. The grounded gate does not apply: the user picked the document.
- **Never cached** nor served from the cache: the answer depends on the whole document and on
  the budget, not on a retrieval signature.
- **A document that is not ready or not there** (unknown id, still being indexed, another
  workspace's) is a 404 from `ChatService.prepare()`, before the stream starts.
- **Reading is bounded**: the chunks are read in order in pipelined batches, and no batch after
  the budget of the parts (or, without an LLM, of the one answer) is full.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace

from ragis.errors import NotFound
from ragis.llm.base import LLMProvider
from ragis.rag.prompt import document_messages, document_only_answer, part_messages
from ragis.store import (
    Citation,
    CollectionInfo,
    DocumentRecord,
    DocumentStatus,
    Message,
    RetrievedChunk,
    SearchFilter,
    Store,
    StoredChunk,
)
from ragis.timing import elapsed_ms

__all__ = [
    "CITATION_CHARS",
    "MAX_PARTS",
    "MAX_SOURCES",
    "DocumentContext",
    "answer",
    "asks_about_whole",
    "read_document",
    "split_parts",
    "whole_document_of",
]

#: Parts a long document is summarised in, at most (one LLM call each, before the answer).
MAX_PARTS = 8
#: Numbered sources (and citations) of an answer from the passages themselves, at most.
MAX_SOURCES = 20
#: Characters of a source's text a citation carries.
CITATION_CHARS = 600
#: The tokens a part's summary may take: the summaries of `MAX_PARTS` parts fit the budget.
_CHARS_PER_TOKEN = 4
_SUMMARY_TOKENS = (64, 512)

_NOUN = (
    r"(?:document|doc|file|paper|pdf|text|report|article|book|chapter|manual|memo|contract|"
    r"letter|thesis|presentation|slides|deck|essay|story|page|transcript|policy|guide)"
)
_WHOLE = re.compile(
    "|".join(
        (
            r"\bsummar(?:y|ies|ise|ize|ised|ized|ising|izing)\b",
            r"\bsum(?:s|med|ming)?\s+(?:(?:it|this|that)\s+)?up\b",
            r"\b(?:overview|outline|synopsis|gist|recap)\b",
            r"\btl\s*;?\s*dr\b",
            r"\b(?:key|main|important|essential|central|core)\s+"
            r"(?:points?|ideas?|takeaways?|findings?|topics?|themes?|messages?|arguments?)\b",
            r"\btakeaways\b",
            rf"\bwhat(?:'s|\s+is|\s+was|\s+are)\s+(?:it|this|that|(?:this|the|that)\s+{_NOUN})"
            r"\s+(?:all\s+)?about\b",
            rf"\bwhat\s+(?:does|do)\s+(?:it|this|(?:this|the|that)\s+{_NOUN})\s+"
            r"(?:cover|discuss|deal\s+with|describe|talk\s+about)\s*[?.!]*\s*$",
            rf"\bdescribe\s+(?:this|the|that)\s+{_NOUN}\b",
        )
    ),
    re.IGNORECASE,
)


def asks_about_whole(question: str) -> bool:
    """Whether `question` asks about a document as a whole (English phrasings: see above)."""
    return _WHOLE.search(question.replace("\u2019", "'")) is not None


def single_document(flt: SearchFilter) -> str | None:
    """The document id of a filter that names exactly one document and nothing else."""
    return flt.doc_ids[0] if len(flt.doc_ids) == 1 and not flt.tags else None


async def whole_document_of(
    store: Store, info: CollectionInfo, flt: SearchFilter, question: str
) -> DocumentRecord | None:
    """The document a turn reads whole, or None for a turn answered from top-k passages.
    A document asked about that is not ready (unknown, still indexing, failed) is `NotFound`."""
    doc_id = single_document(flt)
    if doc_id is None or not asks_about_whole(question):
        return None
    record = await store.documents.get(info.name, doc_id)
    if record is None:
        raise NotFound(f"There is no document {doc_id!r} in collection {info.name!r}.")
    if record.status is not DocumentStatus.READY:
        raise NotFound(
            f"The document {record.filename or doc_id!r} is not ready to be read (it is "
            f"{record.status.value}): ask again once it is indexed."
        )
    return record


@dataclass(frozen=True, slots=True)
class DocumentContext:
    """What a whole-document turn gives the model: the passages in parts (one part: the
    passages themselves), and how much of the document that is."""

    document: DocumentRecord
    parts: tuple[tuple[StoredChunk, ...], ...]
    #: Passages given (in all parts) and passages the document has.
    given: int
    total: int
    budget: int

    @property
    def direct(self) -> bool:
        """The passages themselves fit the budget: no summaries."""
        return len(self.parts) <= 1

    @property
    def whole(self) -> bool:
        return self.given >= self.total

    def sources(self) -> list[RetrievedChunk]:
        """The numbered sources: groups of the passages (direct), or one per part."""
        name = self.document.filename
        if self.direct:
            passages = self.parts[0] if self.parts else ()
            return [_source(group, name) for group in _groups(passages, MAX_SOURCES)]
        return [_source(part, name) for part in self.parts]

    def citations(self) -> tuple[Citation, ...]:
        return tuple(
            Citation(
                n=n,
                doc_id=s.chunk.doc_id,
                filename=s.filename,
                page=s.chunk.page,
                score=0.0,
                text=_excerpt(s.chunk.text, CITATION_CHARS),
                locator=s.chunk.locator,
            )
            for n, s in enumerate(self.sources(), start=1)
        )


async def read_document(
    store: Store, info: CollectionInfo, document: DocumentRecord, budget: int, *, llm: bool
) -> DocumentContext:
    """Read the document's passages in order, as many as the answer can use: `MAX_PARTS`
    parts of `budget` characters with an LLM, one without."""
    max_parts = MAX_PARTS if llm else 1
    passages = await store.chunks.in_order(
        info, document.id, document.chunk_count, max_chars=budget * max_parts
    )
    if not passages:
        raise NotFound(f"The document {document.filename or document.id!r} is gone or empty.")
    parts = split_parts(passages, budget, max_parts=max_parts)
    return DocumentContext(
        document=document,
        parts=parts,
        given=sum(len(p) for p in parts),
        total=max(document.chunk_count, len(passages)),
        budget=budget,
    )


def split_parts(
    passages: Sequence[StoredChunk], budget: int, *, max_parts: int
) -> tuple[tuple[StoredChunk, ...], ...]:
    """The passages in order, in consecutive parts of at most `budget` characters (a passage
    longer than the budget alone is cut to it), at most `max_parts` of them."""
    parts: list[tuple[StoredChunk, ...]] = []
    current: list[StoredChunk] = []
    size = 0
    for passage in passages:
        if len(passage.text) > budget:
            passage = replace(passage, text=passage.text[:budget])
        if current and size + len(passage.text) > budget:
            parts.append(tuple(current))
            current, size = [], 0
            if len(parts) == max_parts:
                return tuple(parts)
        current.append(passage)
        size += len(passage.text)
    if current:
        parts.append(tuple(current))
    return tuple(parts)


async def answer(
    llm: LLMProvider | None,
    context: DocumentContext,
    question: str,
    history: Sequence[Message],
    *,
    max_tokens: int,
    timings: dict[str, float],
    temperature: float | None = None,
) -> AsyncIterator[str]:
    """The answer's text: from the passages, from the parts' summaries, or (no LLM) the
    passages themselves. `timings` gets `summarise` (ms) in map-reduce. `temperature` is the
    final answer's (the caller's); the parts' summaries keep the provider's default."""
    filename = context.document.filename
    if llm is None:
        yield document_only_answer(context.sources(), filename=filename, whole=context.whole)
        return
    sources = context.sources()
    if context.direct:
        about = f'These sources are the whole document "{_name(filename)}", in order.'
    else:
        started = time.perf_counter()
        summaries = await _summaries(llm, context, question)
        timings["summarise"] = elapsed_ms(started)
        sources = [
            RetrievedChunk(replace(s.chunk, text=summary), s.filename, 0.0, ())
            for s, summary in zip(sources, summaries, strict=True)
        ]
        about = (
            f"These sources are summaries of the {len(sources)} consecutive parts of the "
            f'document "{_name(filename)}", in order'
        )
        if context.whole:
            about += "."
        else:
            about += ": only its beginning; the document goes on after them."
            yield _beginning_only(context)
    stream = llm.stream(
        document_messages(question, sources, about=about, history=history),
        temperature=temperature,
        max_tokens=max_tokens,
    )
    try:
        async for delta in stream:
            yield delta
    finally:  # a client gone: the provider's request is closed now, not when collected
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            await aclose()


async def _summaries(llm: LLMProvider, context: DocumentContext, question: str) -> list[str]:
    """One summary per part, in order, one LLM call at a time (the map step)."""
    parts = len(context.parts)
    # The summaries together fit one budget, so the final prompt is no longer than a direct one.
    share = context.budget // parts
    tokens = min(max(share // _CHARS_PER_TOKEN, _SUMMARY_TOKENS[0]), _SUMMARY_TOKENS[1])
    name = context.document.filename
    summaries = []
    for n, part in enumerate(context.parts, start=1):
        sources = [_source(group, name) for group in _groups(part, MAX_SOURCES)]
        messages = part_messages(question, sources, part=n, parts=parts, filename=name)
        summary = (await llm.complete(messages, max_tokens=tokens)).strip()
        summaries.append(summary[:share] or "(nothing to summarise in this part)")
    return summaries


def _beginning_only(context: DocumentContext) -> str:
    last = context.parts[-1][-1]
    pages = f", up to page {last.page}" if last.page is not None else ""
    return (
        f"*This document is long: only its first {len(context.parts)} parts were read "
        f"({context.given} of its {context.total} passages{pages}), so this answer covers its "
        "beginning.*\n\n"
    )


def _groups(passages: Sequence[StoredChunk], limit: int) -> list[Sequence[StoredChunk]]:
    """`passages` in at most `limit` groups of consecutive ones, of nearly equal counts."""
    if not passages:
        return []
    size = math.ceil(len(passages) / limit)
    return [passages[i : i + size] for i in range(0, len(passages), size)]


def _source(passages: Sequence[StoredChunk], filename: str) -> RetrievedChunk:
    """Consecutive passages as one source: their texts joined, the first one's place."""
    first = passages[0]
    text = "\n\n".join(p.text for p in passages)
    return RetrievedChunk(replace(first, text=text), filename, 0.0, ())


def _excerpt(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip() + " …"


def _name(filename: str) -> str:
    # Our sentence, outside the sources: the name may not bring a quote, bracket or line break.
    return "".join(" " if c in '"<>\r\n' else c for c in filename)
