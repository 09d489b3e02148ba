"""Choosing the LLM provider at start-up from the settings.

`RAGIS_LLM_PROVIDER` decides:

- `openai` / `ollama`: that provider, no probe (its `health()` tells what is wrong, and a wrong
  setting should fail loudly rather than silently fall back to something else);
- `none`: no LLM at all; ragis answers with the retrieved passages only;
- `auto` (the default): OpenAI when `OPENAI_API_KEY` or `OPENAI_BASE_URL` is set, because setting
  either is a deliberate choice; else Ollama if one answers at `OLLAMA_BASE_URL` within about a
  second (the common "Ollama runs on this machine" set-up needs no configuration); else none.
  The probe is short so that a machine without any LLM still starts at once.
"""

from __future__ import annotations

import logging

import httpx

from ragis.llm.base import LLMProvider, redact_url
from ragis.llm.ollama import OllamaProvider
from ragis.llm.openai import OpenAIProvider
from ragis.settings import LLMProviderName, Settings

__all__ = ["describe_selection", "ollama_answers", "select_provider"]

log = logging.getLogger(__name__)


async def select_provider(settings: Settings, *, probe_timeout: float = 1.0) -> LLMProvider | None:
    """The provider the settings ask for, or None for retrieval-only answers.

    Raises `ConfigError` when `RAGIS_LLM_PROVIDER=openai` comes without a key or a base URL.
    """
    choice = settings.llm_provider
    if choice is LLMProviderName.NONE:
        return None
    if choice is LLMProviderName.OPENAI:
        return OpenAIProvider.from_settings(settings)
    if choice is LLMProviderName.OLLAMA:
        return OllamaProvider.from_settings(settings)
    if settings.openai_api_key is not None or settings.openai_base_url is not None:
        return OpenAIProvider.from_settings(settings)
    if await ollama_answers(settings.ollama_base_url, probe_timeout=probe_timeout):
        return OllamaProvider.from_settings(settings)
    log.info(
        "No LLM: OPENAI_API_KEY and OPENAI_BASE_URL are unset and no Ollama answers at %s",
        redact_url(settings.ollama_base_url),
    )
    return None


async def ollama_answers(base_url: str, *, probe_timeout: float = 1.0) -> bool:
    """True when an Ollama server answers `GET /api/tags` at `base_url` within `probe_timeout` s."""
    try:
        async with httpx.AsyncClient(
            base_url=base_url.rstrip("/"), timeout=probe_timeout
        ) as client:
            response = await client.get("/api/tags")
            return response.status_code == 200 and isinstance(response.json().get("models"), list)
    except (httpx.HTTPError, ValueError, AttributeError):
        return False


def describe_selection(provider: LLMProvider | None) -> str:
    """One line for the start-up log and the health endpoint."""
    if provider is None:
        return (
            "no LLM (retrieval-only): set OPENAI_API_KEY, OPENAI_BASE_URL, or run Ollama "
            "to get written answers"
        )
    return f"{provider.name}: {provider.model} at {provider.base_url}"
