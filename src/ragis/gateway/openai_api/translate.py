"""ragis's answer stream as OpenAI's: `chat.completion.chunk` events, or one `chat.completion`.

The RAG service's events (relayed by `ragis.gateway.proxy.relay`) become, as they arrive:

    (before any)      data: {chunk, delta: {role: "assistant", content: ""}}
    meta, citations   kept for the end
    token             data: {chunk, delta: {content: <text>}}
    done              data: {chunk, delta: {content: "\\n\\nSources:\\n[1] a.pdf, p. 3\\n..."}}
                      data: {chunk, delta: {}, finish_reason: "stop", ragis: {...}}
                      data: {chunk, choices: [], usage: {...}}   (stream_options.include_usage)
                      data: [DONE]
    error             data: {"error": {"message", "type", "code", "param"}}, then the end
    : keep-alive      passed on (an SSE comment, which OpenAI's SDKs skip)

The Sources block lists the passages the answer cites as `[n]`, or all of them when it cites
none; an answer that is not grounded (the documents do not hold it) gets none, since its
passages are not its sources. The `ragis` field carries every passage given to the model, with
its document, page and score.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ragis.gateway.openai_api.errors import error_body
from ragis.gateway.openai_api.schemas import (
    AssistantMessage,
    ChatCompletion,
    ChatCompletionChunk,
    Choice,
    ChunkChoice,
    Delta,
    RagisCitation,
    RagisExtension,
    Usage,
)

__all__ = [
    "DONE",
    "StreamFailed",
    "Turn",
    "cited",
    "collect",
    "completion",
    "parse_event",
    "sources_block",
    "stream_chunks",
]

DONE = b"data: [DONE]\n\n"
# [1], [2][3], [1, 2]: how the prompt asks the model to cite (rag/prompt.py), and a common slip.
_CITATION = re.compile(r"\[(\d{1,4}(?:\s*,\s*\d{1,4})*)\]")

UsageOf = Callable[["Turn"], Awaitable[Usage]]


class StreamFailed(Exception):
    """The answer stream ended with an `error` event {code, message}."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def status(self) -> int:
        """The HTTP status of a non-streamed answer that failed this way."""
        return 500 if self.code == "internal_error" else 503


@dataclass(slots=True)
class Turn:
    """One answer as it arrives: what the RAG service said, and the OpenAI ids it goes out with."""

    model: str
    id: str = field(default_factory=lambda: f"chatcmpl-{uuid.uuid4().hex}")
    created: int = field(default_factory=lambda: int(time.time()))
    meta: dict[str, Any] = field(default_factory=dict)
    citations: list[dict[str, Any]] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)

    @property
    def answer(self) -> str:
        """The model's answer so far (without the Sources block)."""
        return "".join(self.parts)

    def feed(self, kind: str, data: dict[str, Any]) -> str | None:
        """Take one event; the text of a `token`, else None."""
        if kind == "token":
            text = str(data.get("text", ""))
            self.parts.append(text)
            return text
        if kind == "meta":
            self.meta = data
        elif kind == "citations":
            citations = data.get("citations")
            self.citations = citations if isinstance(citations, list) else []
        return None

    def sources(self) -> str:
        return sources_block(self.citations, self.answer) if self.meta.get("grounded", True) else ""

    def extension(self) -> RagisExtension:
        return RagisExtension(
            collection=str(self.meta.get("collection", "")),
            cache_hit=bool(self.meta.get("cache_hit", False)),
            grounded=bool(self.meta.get("grounded", True)),
            retrieval=str(self.meta.get("retrieval", "")),
            citations=[
                RagisCitation(
                    n=c["n"],
                    doc_id=c["doc_id"],
                    document=c["filename"],
                    page=c.get("page"),
                    locator=c.get("locator"),
                    score=c["score"],
                    text=c["text"],
                )
                for c in self.citations
            ],
        )

    def chunk(self, delta: Delta, **extra: Any) -> bytes:
        """One `chat.completion.chunk` event; `extra`: its `finish_reason`, `ragis`, `usage`."""
        finish = extra.pop("finish_reason", None)
        choice = ChunkChoice(index=0, delta=delta, logprobs=None, finish_reason=finish)
        payload = ChatCompletionChunk(
            id=self.id,
            object="chat.completion.chunk",
            created=self.created,
            model=self.model,
            choices=[choice],
            **extra,
        )
        return _event(payload.model_dump_json(exclude_unset=True))

    def usage_chunk(self, usage: Usage) -> bytes:
        payload = ChatCompletionChunk(
            id=self.id,
            object="chat.completion.chunk",
            created=self.created,
            model=self.model,
            choices=[],
            usage=usage,
        )
        return _event(payload.model_dump_json(exclude_unset=True))


def parse_event(block: bytes) -> tuple[str, dict[str, Any]] | None:
    """The type and data of one relayed SSE event; None for a comment or an unreadable one."""
    kind, data = "message", []
    for line in block.decode("utf-8", "replace").split("\n"):
        if line.startswith("event:"):
            kind = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].lstrip())
    if not data:
        return None
    try:
        payload = json.loads("\n".join(data))
    except ValueError:
        return None
    return (kind, payload) if isinstance(payload, dict) else None


def cited(answer: str) -> set[int]:
    """The passage numbers `answer` cites as [n]."""
    return {int(n) for match in _CITATION.finditer(answer) for n in match.group(1).split(",")}


def sources_block(citations: Sequence[dict[str, Any]], answer: str) -> str:
    """ "\\n\\nSources:\\n[1] a.pdf, p. 3\\n[2] b.txt": the passages `answer` cites (all of
    them when it cites none); "" without passages."""
    numbers = cited(answer)
    shown = [c for c in citations if c.get("n") in numbers] or list(citations)
    if not shown:
        return ""
    lines = []
    for c in shown:
        page, locator = c.get("page"), c.get("locator")
        # A locator ("slide 4", "Sheet1, rows 2-41") says more than the page; one line either way.
        where = f", {' '.join(str(locator).split())}" if locator else f", p. {page}" if page else ""
        # A file name is one line of the block, whatever it holds.
        name = " ".join(str(c.get("filename", "")).split())
        lines.append(f"[{c.get('n')}] {name}{where}")
    return "\n\nSources:\n" + "\n".join(lines)


async def stream_chunks(
    blocks: AsyncGenerator[bytes], turn: Turn, *, usage: UsageOf | None
) -> AsyncIterator[bytes]:
    """The OpenAI stream of the relayed events `blocks` (see the module doc), which it closes
    however it ends; `usage`: how to estimate the usage chunk's numbers, None for none."""
    async with contextlib.aclosing(blocks):
        yield turn.chunk(Delta(role="assistant", content=""))
        async for block in blocks:
            if block.startswith(b":"):
                yield block
                continue
            event = parse_event(block)
            if event is None:
                continue
            kind, data = event
            text = turn.feed(kind, data)
            if text:
                yield turn.chunk(Delta(content=text))
            elif kind == "done":
                if sources := turn.sources():
                    yield turn.chunk(Delta(content=sources))
                yield turn.chunk(Delta(), finish_reason="stop", ragis=turn.extension())
                if usage is not None:
                    yield turn.usage_chunk(await usage(turn))
                yield DONE
                return
            elif kind == "error":
                failed = _failure(data)
                yield _event(json.dumps(error_body(failed.status, failed.code, failed.message)))
                return


async def collect(blocks: AsyncIterator[bytes], turn: Turn) -> None:
    """Read the relayed events `blocks` into `turn` up to `done`; `StreamFailed` on `error`."""
    async for block in blocks:
        event = parse_event(block)
        if event is None:
            continue
        kind, data = event
        turn.feed(kind, data)
        if kind == "done":
            return
        if kind == "error":
            raise _failure(data)
    raise StreamFailed("upstream_error", "The answer stream ended before its end.")


def completion(turn: Turn, usage: Usage) -> ChatCompletion:
    """The one `chat.completion` of a finished turn."""
    return ChatCompletion(
        id=turn.id,
        object="chat.completion",
        created=turn.created,
        model=turn.model,
        choices=[
            Choice(
                index=0,
                message=AssistantMessage(role="assistant", content=turn.answer + turn.sources()),
                finish_reason="stop",
            )
        ],
        usage=usage,
        ragis=turn.extension(),
    )


def _failure(data: dict[str, Any]) -> StreamFailed:
    code = str(data.get("code") or "upstream_error")
    message = str(data.get("message") or "The answer failed.")
    return StreamFailed(code, message)


def _event(payload: str) -> bytes:
    return f"data: {payload}\n\n".encode()
