"""`usage` of an answer, estimated: the gateway does not see the LLM's own count.

The RAG service does not pass on what its LLM reported (a cached answer, or the retrieval-only
mode, has no LLM call at all), so the gateway counts with the tokenizer it already holds, the
chunker's (all-MiniLM-L6-v2's WordPiece): prompt = the question, the conversation as sent to the
RAG service and the passages given to the model; completion = the answer the model wrote.
ragis's own instructions are not counted, and the conversation is counted whole, though the RAG
service gives the model only its last RAGIS_HISTORY_MESSAGES, each cut to
RAGIS_MAX_MESSAGE_CHARS (settings the gateway does not have). Another tokenizer than the LLM's,
too, so the LLM's own count differs: good for a client's display of a budget, not for billing.
"""

from __future__ import annotations

import asyncio

from ragis.contract import ChatRequest
from ragis.gateway.openai_api.schemas import Usage
from ragis.gateway.openai_api.translate import Turn
from ragis.ingest import Chunker

__all__ = ["UsageEstimator"]


class UsageEstimator:
    def __init__(self, chunker: Chunker) -> None:
        self._chunker = chunker

    async def estimate(self, request: ChatRequest, turn: Turn) -> Usage:
        prompt = [request.message, *(m.content for m in request.history or ())]
        prompt += [str(c.get("text", "")) for c in turn.citations]
        answer = turn.answer
        # Up to a MiB of text: off the event loop.
        return await asyncio.to_thread(self._count, prompt, answer)

    def _count(self, prompt: list[str], answer: str) -> Usage:
        count = self._chunker.count_tokens
        prompt_tokens = sum(count(text) for text in prompt if text)
        completion_tokens = count(answer) if answer else 0
        return Usage(
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            total_tokens=prompt_tokens + completion_tokens,
        )
