"""A second real embedding model made from the first, for reindex tests without a server.

`RotatedEmbedder(embedder, "openai:rotated")` embeds with the session's SentenceTransformer model
and moves the vectors into the space the loopback embedding servers give that model name
(support.embed_servers.Space: padded to 512 dims, turned by a fixed orthogonal matrix). Cosines
and neighbours are the real model's; the vectors are not interchangeable with it, so a test can
tell which model embedded what. It counts the texts it embeds, and a test may hold it after
`pause_after` texts until it calls `resume()` (to ask questions, ingest or delete mid-reindex).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from ragis.embedding import Embedder
from support.embed_servers import DIM, Space

__all__ = ["RotatedEmbedder"]


class RotatedEmbedder(Embedder):
    def __init__(self, inner: Embedder, model_name: str = "openai:rotated", dim: int = DIM) -> None:
        self._inner = inner
        self._space = Space.of(model_name, dim)
        self.model_name = model_name
        self.dim = dim
        self.max_tokens = inner.max_tokens
        self.backend = "rotated"
        #: Texts embedded so far (all calls).
        self.texts: list[str] = []
        self.pause_after: int | None = None
        self.paused = asyncio.Event()
        self._go = asyncio.Event()

    async def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        if self.pause_after is not None and len(self.texts) >= self.pause_after:
            self.paused.set()
            await self._go.wait()
        self.texts.extend(texts)
        return self._space.transform(await self._inner.embed(texts))

    def resume(self) -> None:
        self.pause_after = None
        self._go.set()
