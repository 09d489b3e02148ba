"""The servers ragis talks to over HTTP: the LLM, a remote embedding server, and ragis's own
gateway and RAG service. Each is asked one cheap question with a short timeout."""

from __future__ import annotations

from typing import Any

import httpx

from ragis.errors import ConfigError, LLMError, RagisError
from ragis.llm.base import redact_url
from ragis.llm.select import select_provider
from ragis.ops.checks.result import Check
from ragis.rag.settings import RagSettings

__all__ = ["EMBED_TIMEOUT", "TIMEOUT", "embedding_server_check", "llm_check", "service_check"]

#: Seconds each server gets to answer the doctor.
TIMEOUT = 5.0
#: Seconds an embedding server gets to embed one text (a CPU-bound server may be busy).
EMBED_TIMEOUT = 10.0


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


async def embedding_server_check(settings: RagSettings) -> Check | None:
    """For a remote embedding provider (RAGIS_EMBED_PROVIDER openai/ollama): the server embeds
    one text with RAGIS_EMBED_MODEL, asked as the RAG service asks it at start (the same client,
    one attempt, a short timeout); None for the built-in model (the model cache check covers it)."""
    from ragis.embedding.registry import create_remote

    provider, model = settings.embed_provider, settings.embed_model
    if provider == "local" or not model:  # the settings refuse a remote provider without one
        return None
    name = "embedding"
    quick = settings.model_copy(update={"embed_timeout": EMBED_TIMEOUT, "embed_retries": 0})
    try:
        embedder = await create_remote(quick, provider, model)
    except RagisError as exc:
        return Check.problem(
            name,
            f"the {provider} embedding server does not embed with {model}: {exc.message}",
            "start the embedding server, or fix RAGIS_EMBED_BASE_URL, RAGIS_EMBED_MODEL and "
            "RAGIS_EMBED_API_KEY; new uploads fail until it answers",
        )
    try:
        return Check.ok(name, f"{provider} embeddings answer: {embedder.describe()}")
    finally:
        await embedder.aclose()


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
