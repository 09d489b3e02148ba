"""The LLM models a chat turn may ask for: the provider's own list, kept briefly.

`GET /models` shows the list (the web UI's model picker) and a turn that names a `model` is
checked against it (`UnknownModel`, 422): a typo must fail before the answer starts, with the
names that would work, not as an LLM error event halfway. The list is asked of the provider at
most every `LIST_TTL` seconds (a picker opened by every browser tab, every turn that names a
model: one request to the provider), a failure for only `FAILED_TTL` (a server that comes back
is seen soon). A provider that does not answer leaves its configured model, which needs no
list: the turns that ask for nothing, or for it by name, are answered as before.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from ragis.errors import LLMError, UnknownModel
from ragis.llm.base import LLMProvider

__all__ = ["FAILED_TTL", "LIST_TTL", "ModelCatalog", "ModelListing"]

LIST_TTL = 30.0
FAILED_TTL = 5.0


@dataclass(frozen=True, slots=True)
class ModelListing:
    """`provider` ("none" without an LLM), its configured model, what it lists, and why it
    listed nothing (None when it answered)."""

    provider: str
    default: str | None
    models: tuple[str, ...]
    error: str | None = None


class ModelCatalog:
    def __init__(self, llm: LLMProvider | None) -> None:
        self._llm = llm
        self._listing: ModelListing | None = None
        self._expires = 0.0
        self._lock = asyncio.Lock()

    async def listing(self) -> ModelListing:
        """The provider's models (cached); never raises: a failure is the default plus `error`."""
        llm = self._llm
        if llm is None:
            return ModelListing("none", None, ())
        async with self._lock:  # one request to the provider for all who ask at once
            if self._listing is not None and time.monotonic() < self._expires:
                return self._listing
            try:
                listing = ModelListing(llm.name, llm.model, tuple(await llm.list_models()))
                ttl = LIST_TTL
            except LLMError as exc:
                listing = ModelListing(llm.name, llm.model, (llm.model,), error=exc.message)
                ttl = FAILED_TTL
            self._listing, self._expires = listing, time.monotonic() + ttl
            return listing

    async def check(self, model: str) -> str:
        """`model` if the provider offers it (its configured one always is); else `UnknownModel`
        naming what it offers."""
        llm = self._llm
        if llm is None:
            raise UnknownModel(
                f"No language model is configured, so there is no model {model[:80]!r} to "
                "answer with: leave out `model` (the answer quotes the passages)."
            )
        if model == llm.model:
            return model
        listing = await self.listing()
        # Ollama names a model `llama3.2:latest` and answers to `llama3.2` as well.
        if model in listing.models or f"{model}:latest" in listing.models:
            return model
        offered = ", ".join(listing.models[:20]) or "none"
        why = f" (it does not list them now: {listing.error})" if listing.error else ""
        raise UnknownModel(
            f"The {llm.name} provider does not offer the model {model[:80]!r}{why}: GET "
            f"/api/models lists them (offered: {offered})."
        )
