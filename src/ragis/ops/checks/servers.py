"""The servers ragis talks to over HTTP: the LLM, a remote embedding server, and ragis's own
gateway and RAG service. Each is asked one cheap question with a short timeout."""

from __future__ import annotations

from typing import Any

import httpx

from ragis.errors import ConfigError, LLMError
from ragis.llm.base import redact_url
from ragis.llm.select import select_provider
from ragis.ops.checks.result import Check
from ragis.rag.settings import RagSettings

__all__ = ["TIMEOUT", "embedding_server_check", "llm_check", "service_check"]

#: Seconds each server gets to answer the doctor.
TIMEOUT = 5.0


async def llm_check(settings: RagSettings) -> Check:
    """The configured LLM lists its models, and the configured model is among them."""
    name = "llm"
    quick = settings.model_copy(
        update={"llm_timeout": TIMEOUT, "llm_connect_timeout": TIMEOUT, "llm_max_retries": 0}
    )
    try:
        provider = await select_provider(quick, probe_timeout=1.0)
    except ConfigError as exc:
        return Check.problem(name, exc.message, "fix the LLM settings (RAGIS_LLM_PROVIDER ...)")
    if provider is None:
        return Check.ok(
            name,
            "no LLM configured: retrieval-only mode (answers are the best passages); set "
            "OPENAI_API_KEY or OPENAI_BASE_URL, or run Ollama, for written answers",
        )
    where = f"{provider.name} at {redact_url(provider.base_url)}"
    try:
        models = await provider.list_models()
    except LLMError as exc:
        return Check.problem(
            name,
            f"{where} does not answer: {exc.message}",
            "start the LLM server, or fix OPENAI_BASE_URL / OLLAMA_BASE_URL and the key",
        )
    finally:
        await provider.aclose()
    model = provider.model
    if model in models or f"{model}:latest" in models:
        return Check.ok(name, f"{where} answers and offers {model}")
    offered = ", ".join(models[:10]) or "none"
    return Check.problem(
        name,
        f"{where} answers but does not offer the model {model} (it offers: {offered})",
        "set RAGIS_LLM_MODEL to one it offers"
        + (f" (`ollama pull {model}`)" if provider.name == "ollama" else ""),
    )


def _vector_of(provider: str, body: Any) -> list[Any] | None:
    """The one vector in an embeddings answer (OpenAI's `data[0].embedding`, Ollama's
    `embeddings[0]`), or None."""
    try:
        vector = body["embeddings"][0] if provider == "ollama" else body["data"][0]["embedding"]
    except (KeyError, IndexError, TypeError):
        return None
    if not isinstance(vector, list) or not vector:
        return None
    if not all(isinstance(x, int | float) and not isinstance(x, bool) for x in vector):
        return None
    return vector


async def embedding_server_check(settings: RagSettings) -> Check | None:
    """For a remote embedding provider (RAGIS_EMBED_PROVIDER openai/ollama): one word embedded;
    None for the built-in model (the model cache check covers it)."""
    name = "embedding"
    provider = str(getattr(settings, "embed_provider", "local") or "local").lower()
    if provider == "local":
        return None
    model = getattr(settings, "embed_model", None)
    base = str(getattr(settings, "embed_base_url", None) or "").rstrip("/")
    secret = getattr(settings, "embed_api_key", None)
    key = secret.get_secret_value() if secret is not None else None
    if not model or not base:
        return Check.problem(
            name,
            f"RAGIS_EMBED_PROVIDER is {provider} but RAGIS_EMBED_MODEL or RAGIS_EMBED_BASE_URL "
            "is unset",
            "set both (the model's name on the server, and its URL)",
        )
    url = f"{base}/api/embed" if provider == "ollama" else f"{base}/embeddings"
    where = f"{provider} embeddings at {redact_url(base)}"
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT, trust_env=False) as client:
            response = await client.post(
                url, json={"model": model, "input": ["doctor"]}, headers=headers
            )
    except httpx.HTTPError as exc:
        return Check.problem(
            name,
            f"{where} does not answer ({type(exc).__name__})",
            "start the embedding server, or fix RAGIS_EMBED_BASE_URL",
        )
    if response.status_code != 200:
        return Check.problem(
            name,
            f"{where} answered HTTP {response.status_code} to embedding one word with {model}",
            "check RAGIS_EMBED_MODEL (served there?) and RAGIS_EMBED_API_KEY",
        )
    try:
        vector = _vector_of(provider, response.json())
    except ValueError:
        vector = None
    if vector is None:
        return Check.problem(
            name,
            f"{where} answered, but not with a vector",
            "check that RAGIS_EMBED_BASE_URL is an embedding server of that kind"
            + (" (OpenAI-compatible URLs end in /v1)" if provider == "openai" else ""),
        )
    return Check.ok(name, f"{where} embeds with {model} ({len(vector)} dimensions)")


def _health_detail(body: Any) -> str:
    """What a degraded health answer says is wrong."""
    if not isinstance(body, dict):
        return ""
    wrong = [
        f"{part}: {value.get('detail')}"
        for part, value in body.items()
        if isinstance(value, dict) and value.get("ok") is False
    ]
    return "; ".join(wrong)[:400]


async def service_check(
    name: str, label: str, url: str, path: str, token: str | None = None
) -> Check:
    """`GET url+path` of one of ragis's services: not running is a warning, answering ok."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT, trust_env=False) as client:
            response = await client.get(url + path, headers=headers)
    except httpx.HTTPError:
        return Check.warn(
            name,
            f"the {label} is not running at {url}",
            "start ragis (`ragis up`), or set "
            + ("RAGIS_GATEWAY_URL" if name == "gateway" else "RAGIS_RAG_URL")
            + " to where it runs",
        )
    if response.status_code == 401:
        return Check.ok(name, f"the {label} answers at {url} (its health needs the token)")
    try:
        body = response.json()
    except ValueError:
        body = None
    status = body.get("status") if isinstance(body, dict) else None
    if response.status_code != 200 or status not in ("ok", "degraded"):
        return Check.problem(
            name,
            f"something answers at {url} but not as the {label} (HTTP {response.status_code})",
            "check the URL and what listens on that port",
        )
    if status == "degraded":
        said = _health_detail(body)
        return Check.warn(
            name,
            f"the {label} at {url} says degraded" + (f": {said}" if said else ""),
            "see the lines above, and the service's log",
        )
    return Check.ok(name, f"the {label} answers at {url}")
