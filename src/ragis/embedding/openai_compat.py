"""Embeddings from an OpenAI-compatible server: `POST {base}/embeddings`.

OpenAI itself, vLLM, Hugging Face TEI, llama.cpp's server, LM Studio and LiteLLM all answer it.
RAGIS_EMBED_BASE_URL includes the `/v1` (`http://gpu-box:8000/v1`); the key, when set, goes as
`Authorization: Bearer`. Request and answer::

    {"model": "bge-m3", "input": ["text", ...], "encoding_format": "float"}
    {"data": [{"index": 0, "embedding": [...]}, ...], "model": "bge-m3", "usage": {...}}

The rows are put in the order of their `index` (the API does not promise the input's order).
"""

from __future__ import annotations

from typing import Any

from ragis.embedding.remote import RemoteEmbedder

__all__ = ["OPENAI_BASE_URL", "OpenAIEmbedder"]

OPENAI_BASE_URL = "https://api.openai.com/v1"


class OpenAIEmbedder(RemoteEmbedder):
    provider = "openai"
    label = "The OpenAI-compatible embedding server"

    def _url(self) -> str:
        return f"{self.base_url}/embeddings"

    def _body(self, texts: list[str]) -> dict[str, Any]:
        return {"model": self.model, "input": texts, "encoding_format": "float"}

    def _rows(self, payload: Any) -> Any:
        data = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(data, list) or not all(
            isinstance(item, dict) and type(item.get("index")) is int and "embedding" in item
            for item in data
        ):
            raise self._error('answered without a "data" list of {"index", "embedding"} items')
        indexes = sorted(item["index"] for item in data)
        if indexes != list(range(len(data))):
            raise self._error("answered vectors whose indexes are not 0..n-1, each once")
        return [item["embedding"] for item in sorted(data, key=lambda item: item["index"])]
