"""Ollama through its native API: `POST /api/chat` streams NDJSON, `GET /api/tags` lists models.

The native API (rather than Ollama's OpenAI-compatible `/v1`) reports a missing model as a 404
`{"error": "model 'x' not found"}` and errors during generation as `{"error": "..."}` lines, which
we turn into errors a user can act on (`ollama pull llama3.2`). One `httpx.AsyncClient` per
provider keeps connections to the server alive between questions.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Sequence
from contextlib import aclosing
from typing import Any

import httpx

from ragis.errors import (
    LLMAuthError,
    LLMError,
    LLMModelNotFound,
    LLMStreamBroken,
    LLMUnavailable,
)
from ragis.llm.base import (
    AttemptFailed,
    ChatMessage,
    LLMProvider,
    ProviderHealth,
    redact_url,
    shorten,
)
from ragis.settings import Settings

__all__ = ["DEFAULT_BASE_URL", "DEFAULT_MODEL", "OllamaProvider"]

DEFAULT_MODEL = "llama3.2"
DEFAULT_BASE_URL = "http://localhost:11434"

_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class OllamaProvider(LLMProvider):
    """Chat with a model served by Ollama (`ollama serve`, default http://localhost:11434)."""

    name = "ollama"

    def __init__(
        self,
        *,
        base_url: str = DEFAULT_BASE_URL,
        model: str = DEFAULT_MODEL,
        timeout: float = 120.0,
        connect_timeout: float = 5.0,
        max_retries: int = 2,
        temperature: float | None = None,
        retry_backoff: float = 0.25,
    ) -> None:
        """`timeout` bounds the wait for the first token and between two tokens."""
        self.model = model
        self.base_url = redact_url(base_url.rstrip("/"))
        self.timeout = timeout
        self.max_retries = max_retries
        self.temperature = temperature
        self.retry_backoff = retry_backoff
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> OllamaProvider:
        return cls(
            base_url=settings.ollama_base_url,
            model=settings.llm_model or DEFAULT_MODEL,
            timeout=settings.llm_timeout,
            connect_timeout=settings.llm_connect_timeout,
            max_retries=settings.llm_max_retries,
            temperature=settings.llm_temperature,
        )

    async def _attempt(
        self, messages: Sequence[ChatMessage], temperature: float | None, max_tokens: int | None
    ) -> AsyncGenerator[str, None]:
        body = self._chat_body(messages, temperature, max_tokens)
        try:
            async with self._client.stream("POST", "/api/chat", json=body) as response:
                await self._check_status(response)
                async with aclosing(self._deltas(response)) as deltas:
                    async for delta in deltas:
                        yield delta
        except httpx.HTTPError as exc:
            raise self._transport_failure(exc) from exc

    async def list_models(self) -> list[str]:
        """`GET /api/tags`: the `name` of each model pulled (`llama3.2:latest`)."""
        try:
            response = await self._client.get("/api/tags", timeout=min(self.timeout, 10.0))
        except httpx.HTTPError as exc:
            raise self._transport_failure(exc).error from exc
        if response.status_code >= 400:
            raise LLMUnavailable(
                f"Ollama at {self.base_url} refused to list its models (HTTP "
                f"{response.status_code}: {_error_text(response)}).",
                provider=self.name,
            )
        try:
            models = response.json().get("models")
        except (ValueError, AttributeError):
            models = None
        if not isinstance(models, list):
            raise LLMUnavailable(
                f"Ollama at {self.base_url} answered GET /api/tags without a list of models: is "
                "OLLAMA_BASE_URL an Ollama server?",
                provider=self.name,
            )
        names = (m.get("name") for m in models if isinstance(m, dict))
        return sorted({name for name in names if isinstance(name, str) and name})

    async def health(self) -> ProviderHealth:
        try:
            response = await self._client.get("/api/tags", timeout=min(self.timeout, 10.0))
            response.raise_for_status()
            names = [str(m.get("name", "")) for m in response.json().get("models", [])]
        except (httpx.HTTPError, ValueError, AttributeError) as exc:
            return ProviderHealth(
                False,
                f"Ollama at {self.base_url} does not answer GET /api/tags ({type(exc).__name__}):"
                " is `ollama serve` running, and is OLLAMA_BASE_URL right?",
            )
        if self.model in names or f"{self.model}:latest" in names:
            return ProviderHealth(True, f"{self.model} at {self.base_url}")
        pulled = ", ".join(names) or "none"
        return ProviderHealth(
            False,
            f"Ollama at {self.base_url} answers, but the model '{self.model}' is not pulled: "
            f"run `ollama pull {self.model}` or set RAGIS_LLM_MODEL (pulled: {pulled}).",
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    # --- one request -----------------------------------------------------------------------

    def _chat_body(
        self, messages: Sequence[ChatMessage], temperature: float | None, max_tokens: int | None
    ) -> dict[str, Any]:
        options: dict[str, Any] = {}
        temperature = self.temperature if temperature is None else temperature
        if temperature is not None:
            options["temperature"] = temperature
        if max_tokens is not None:
            options["num_predict"] = max_tokens
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "stream": True,
        }
        if options:
            body["options"] = options
        return body

    async def _check_status(self, response: httpx.Response) -> None:
        status = response.status_code
        if status < 400:
            return
        await response.aread()
        message = _error_text(response)
        where = f"Ollama at {self.base_url}"
        if status in (401, 403):
            error: LLMError = LLMAuthError(
                f"{where} refused access (HTTP {status}): check the credentials of the proxy in "
                "front of it, or OLLAMA_BASE_URL.",
                provider=self.name,
            )
        elif status == 404 and "model" in message.lower():
            error = self._model_not_found()
        elif status == 404:
            error = LLMUnavailable(
                f"{self.base_url} has no /api/chat (HTTP 404): is OLLAMA_BASE_URL an Ollama "
                "server?",
                provider=self.name,
            )
        elif status in _RETRY_STATUSES:
            error = LLMUnavailable(
                f"{where} failed to answer with {self.model} (HTTP {status}: {message}).",
                provider=self.name,
            )
        else:
            error = LLMError(
                f"{where} refused the request for {self.model} (HTTP {status}: {message}).",
                provider=self.name,
            )
        raise AttemptFailed(error, retryable=status in _RETRY_STATUSES)

    async def _deltas(self, response: httpx.Response) -> AsyncGenerator[str, None]:
        done = False
        started = False
        async for line in response.aiter_lines():
            if done or not line.strip():
                continue
            try:
                event = json.loads(line)
            except ValueError:
                raise self._protocol(f"sent a line that is not JSON: {shorten(line, 80)}") from None
            if not isinstance(event, dict):
                raise self._protocol(f"sent a line that is not a JSON object: {shorten(line, 80)}")
            if event.get("error"):
                message = shorten(str(event["error"]))
                if not started and "not found" in message.lower():
                    raise AttemptFailed(self._model_not_found(), retryable=False)
                raise AttemptFailed(
                    LLMUnavailable(
                        f"Ollama at {self.base_url} could not answer with {self.model}: {message}",
                        provider=self.name,
                    ),
                    retryable=False,
                    reason=f"the server reported: {message}",
                )
            message_part = event.get("message")
            content = message_part.get("content") if isinstance(message_part, dict) else None
            if isinstance(content, str) and content:
                started = True
                yield content
            done = bool(event.get("done"))
        if not done:
            raise AttemptFailed(
                LLMUnavailable(
                    f"Ollama at {self.base_url} ended the answer before it was done.",
                    provider=self.name,
                ),
                retryable=True,
                reason="the stream ended before the server said it was done",
            )

    # --- errors ----------------------------------------------------------------------------

    def _transport_failure(self, exc: httpx.HTTPError) -> AttemptFailed:
        where = f"Ollama at {self.base_url}"
        if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
            message = (
                f"Cannot connect to {where}: is `ollama serve` running? "
                "Set OLLAMA_BASE_URL if it listens elsewhere."
            )
            return AttemptFailed(LLMUnavailable(message, provider=self.name), retryable=True)
        if isinstance(exc, httpx.TimeoutException):
            # A slow server is not retried: another attempt would only double the wait.
            message = (
                f"{where} did not answer within {self.timeout:g} s (model {self.model}): the "
                "model may still be loading; try again, or raise RAGIS_LLM_TIMEOUT."
            )
            return AttemptFailed(
                LLMUnavailable(message, provider=self.name),
                retryable=False,
                reason=f"nothing more came within {self.timeout:g} s",
            )
        if isinstance(exc, httpx.TransportError):
            message = f"{where} closed the connection before answering ({type(exc).__name__})."
            return AttemptFailed(
                LLMUnavailable(message, provider=self.name),
                retryable=True,
                reason=f"the connection dropped ({type(exc).__name__})",
            )
        message = f"{where} sent a response ragis cannot read ({type(exc).__name__})."
        return AttemptFailed(LLMUnavailable(message, provider=self.name), retryable=False)

    def _model_not_found(self) -> LLMModelNotFound:
        return LLMModelNotFound(
            f"Ollama at {self.base_url} does not have the model '{self.model}': run "
            f"`ollama pull {self.model}`, or set RAGIS_LLM_MODEL to a model you have pulled "
            "(`ollama list`).",
            provider=self.name,
        )

    def _protocol(self, what: str) -> AttemptFailed:
        error = LLMUnavailable(f"Ollama at {self.base_url} {what}", provider=self.name)
        return AttemptFailed(error, retryable=False)

    def _broken(self, reason: str) -> LLMStreamBroken:
        return LLMStreamBroken(
            f"The answer from Ollama ({self.model} at {self.base_url}) broke off after it had "
            f"started: {reason}. Ask again.",
            provider=self.name,
        )


def _error_text(response: httpx.Response) -> str:
    """The `error` of an Ollama error body, else the body itself, shortened."""
    try:
        data = response.json()
    except ValueError:
        return shorten(response.text) or response.reason_phrase
    if isinstance(data, dict) and data.get("error"):
        return shorten(str(data["error"]))
    return shorten(response.text)
