"""The small streaming interface every LLM backend implements, and the helpers they share.

A provider turns a list of `ChatMessage` into a stream of text deltas. The contract, which the RAG
service relies on and the tests in `tests/llm` check for each backend:

- `stream()` is an async generator of non-empty text deltas, in order.
- A failed request is retried (with a small backoff) only *before* the first delta has been yielded,
  and only when another attempt may help (connection refused, HTTP 429 / 5xx); once text has
  reached the caller, a failure raises `LLMStreamBroken` instead, so no answer is ever duplicated.
- Every failure is one of the typed `LLMError` subclasses, with a sentence that names the provider,
  the URL and the model and says what to do; no key ever appears in it.
- `list_models()` names what the server offers (OpenAI's `GET /models`, Ollama's `GET /api/tags`);
  `with_model()` is the same provider asking another of them, for one turn.
- Closing the generator (`aclose()`, or cancelling the task that iterates it) closes the HTTP
  response at once, so the LLM server stops generating for a client that went away.
"""

from __future__ import annotations

import asyncio
import copy
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from types import TracebackType
from typing import Literal, Self
from urllib.parse import urlsplit, urlunsplit

from ragis.errors import LLMError, LLMStreamBroken

__all__ = [
    "AttemptFailed",
    "ChatMessage",
    "LLMProvider",
    "ProviderHealth",
    "Role",
    "redact_url",
    "retry_delay",
    "shorten",
]

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True, slots=True)
class ChatMessage:
    role: Role
    content: str


@dataclass(frozen=True, slots=True)
class ProviderHealth:
    """`ok` when a chat request is expected to work; `detail` says what answers, or why not."""

    ok: bool
    detail: str


class LLMProvider(ABC):
    """One LLM backend. Build it with the settings, inject it, `await aclose()` it at shutdown."""

    name: str
    """Short provider name: "openai" or "ollama"."""
    model: str
    """The model every request asks for."""
    base_url: str
    """The URL the provider talks to, without credentials (safe to log and to show)."""
    max_retries: int = 2
    """Further attempts after a retryable failure, before the first delta only."""
    retry_backoff: float = 0.25
    """Seconds before the first retry; doubled for each next one (see `retry_delay`)."""

    async def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        temperature: float | None = None,
        max_tokens: int | None = None,
    ) -> AsyncIterator[str]:
        """Yield the answer's text deltas (never empty ones); raise an `LLMError` on failure.

        `temperature=None` uses the provider's configured default; `max_tokens=None` sends no limit.
        The retry rule of the module docstring lives here, once for every provider.
        """
        attempt = 0
        while True:
            started = False
            try:
                async with aclosing(self._attempt(messages, temperature, max_tokens)) as deltas:
                    async for delta in deltas:
                        started = True
                        yield delta
                return
            except AttemptFailed as failed:
                if started:
                    raise self._broken(failed.reason) from failed.__cause__
                if not failed.retryable or attempt >= self.max_retries:
                    raise failed.error from failed.__cause__
            await asyncio.sleep(retry_delay(attempt, self.retry_backoff))
            attempt += 1

    @abstractmethod
    def _attempt(
        self, messages: Sequence[ChatMessage], temperature: float | None, max_tokens: int | None
    ) -> AsyncGenerator[str, None]:
        """One request: its non-empty deltas; every failure raised as `AttemptFailed` with the
        original exception as `__cause__`."""

    @abstractmethod
    def _broken(self, reason: str) -> LLMStreamBroken:
        """The error for an answer that broke off after it had started, because of `reason`."""

    async def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        temperature: float | None = None,
        max_tokens: int | None = None,
    ) -> str:
        """The whole answer as one string (the joined `stream()`)."""
        parts: list[str] = []
        deltas = self.stream(messages, temperature=temperature, max_tokens=max_tokens)
        try:
            async for delta in deltas:
                parts.append(delta)
        finally:
            aclose = getattr(deltas, "aclose", None)
            if aclose is not None:
                await aclose()
        return "".join(parts)

    @abstractmethod
    async def list_models(self) -> list[str]:
        """The models the server offers, as a request would name them (sorted); an `LLMError`
        when the server does not answer or refuses."""

    def with_model(self, model: str) -> Self:
        """This provider asking for `model` instead: one turn's choice. It shares this
        provider's HTTP client (so never `aclose()` it: the original owns the client)."""
        if model == self.model:
            return self
        other = copy.copy(self)
        other.model = model
        return other

    @abstractmethod
    async def health(self) -> ProviderHealth:
        """A cheap check (list the models) that never raises: failures come back as `ok=False`."""

    async def aclose(self) -> None:
        """Release the HTTP client; the provider is not used afterwards."""
        return

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model={self.model!r}, base_url={self.base_url!r})"


class AttemptFailed(Exception):
    """Internal to the providers: one attempt failed with `error`.

    `retryable` when another attempt may succeed (only tried before the first delta); `reason` is
    the short cause a provider puts into `LLMStreamBroken` when the answer had already started.
    """

    def __init__(self, error: LLMError, *, retryable: bool, reason: str = "") -> None:
        super().__init__(error.message)
        self.error = error
        self.retryable = retryable
        self.reason = reason or error.message


def redact_url(url: str) -> str:
    """`url` without user name and password, for messages and logs."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, f"***@{host}", parts.path, parts.query, parts.fragment))


def retry_delay(attempt: int, base: float) -> float:
    """Seconds before retry number `attempt` (0-based): base, 2·base, 4·base…, at most 4 s."""
    return float(min(base * (2**attempt), 4.0))


def shorten(text: str, limit: int = 300) -> str:
    """A server's error text, on one line and at most `limit` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
